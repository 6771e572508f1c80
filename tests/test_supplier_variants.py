"""The same return as another supplier's system writes it loads as the same rows.

Each test takes a return written by hand from DfE's specification (tests/fixtures/, not our
generator), rewrites it the way another case-management system, MIS or health extract does
(found by delivering such files to the loader: UTF-16 XML, XML dates with a time zone, codes
in lower case or as words, a delimiter after every field, the specification's own column
headings, Blade bookkeeping columns left out, Y/N booleans), and loads both: the raw tables
must hold the same rows, and the load log says what was read another way. Health extracts
have no hand-written fixture folder: theirs are written here from SOURCES.md's layout.
"""

from __future__ import annotations

import codecs
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from linkage_ops.ingest import OtherPeriodRefused, load_period

FIXTURES = Path(__file__).parent / "fixtures"


def load(tmp_path: Path, name: str, source: str, fixture: str | Path, period: str, rewrite=None):
    """Load fixture folder ``fixture`` of ``source`` (a name under the source's fixtures, or a
    folder) as ``period``, each file first passed through ``rewrite(path)`` if given; returns
    the connection and the load."""
    landing = tmp_path / name / "landing"
    folder = landing / source / period
    shutil.copytree(fixture if isinstance(fixture, Path) else FIXTURES / source / fixture, folder)
    for path in sorted(folder.iterdir()):
        if rewrite is not None:
            rewrite(path)
    con = duckdb.connect()
    return con, load_period(con, landing, source, period, run_id="t")


def content(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, list[tuple]]:
    """Every raw table of ``source``: its rows (lineage columns left out), sorted."""
    tables = con.execute(
        "select table_name from information_schema.tables where table_schema = 'raw' "
        "and table_name like ? order by 1",
        [f"{source}__%"],
    ).fetchall()
    found = {}
    for (table,) in tables:
        columns = [
            name
            for (name,) in con.execute(
                "select column_name from information_schema.columns where table_schema = 'raw' "
                "and table_name = ? order by ordinal_position",
                [table],
            ).fetchall()
            if not name.startswith("_")
        ]
        listed = ", ".join(f'"{c}"' for c in columns)
        found[table] = sorted(con.execute(f"select {listed} from raw.{table}").fetchall(), key=repr)
    return found


def assert_same_rows(
    tmp_path, source, fixture: str | Path, period, rewrite: Callable[[Path], None]
):
    """The fixture and its rewritten copy load the same rows; returns the rewritten load."""
    plain_con, plain = load(tmp_path, "plain", source, fixture, period)
    con, rewritten = load(tmp_path, "rewritten", source, fixture, period, rewrite)
    assert rewritten.failed == []
    assert [f for f in rewritten.findings if f.action == "rejected"] == [
        f for f in plain.findings if f.action == "rejected"
    ]
    assert content(con, source) == content(plain_con, source)
    return con, rewritten


def load_log(con, column: str) -> dict[str, object]:
    return {
        table: json.loads(value)
        for table, value in con.execute(
            f"select table_name, {column} from raw.load_log where {column} is not null"
        ).fetchall()
    }


def edit_text(path: Path, change: Callable[[str], str], encoding: str = "utf-8-sig") -> None:
    path.write_text(change(path.read_text(encoding=encoding)), encoding="utf-8", newline="")


# --- Children in Need census (XML) -------------------------------------------------------------


def test_a_cin_return_saved_as_utf16_loads_the_same_rows(tmp_path) -> None:
    # XML 1.0 requires every processor to read UTF-16; Windows tools save XML that way.
    def utf16(path: Path) -> None:
        text = path.read_text(encoding="utf-8-sig").replace('encoding="UTF-8"', 'encoding="UTF-16"')
        path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    _, load = assert_same_rows(tmp_path, "children_in_need", "2024-25", "2024-25", utf16)
    assert load.unmodelled == [] and load.tables


def test_a_cin_return_with_a_blank_line_before_it_and_an_end_of_file_mark_loads(tmp_path) -> None:
    def padded(path: Path) -> None:
        path.write_bytes(b"\r\n\r\n" + path.read_bytes() + b"\r\n\x1a")

    assert_same_rows(tmp_path, "children_in_need", "2024-25", "2024-25", padded)


def test_cin_dates_written_with_a_time_zone_load(tmp_path) -> None:
    # xs:date allows a time zone (2023-05-10Z, 2023-05-10+01:00), and xs:dateTime a time too.
    zones = iter(["Z", "+01:00", "T00:00:00.000+01:00", "-05:00"] * 1000)

    def zoned(path: Path) -> None:
        edit_text(
            path,
            lambda text: re.sub(r">(\d{4}-\d\d-\d\d)<", lambda m: f">{m[1]}{next(zones)}<", text),
        )

    _, plain = load(tmp_path, "plain", "children_in_need", "2024-25", "2024-25")
    con, rewritten = load(tmp_path, "zoned", "children_in_need", "2024-25", "2024-25", zoned)
    assert [f for f in rewritten.findings if f.action == "rejected"] == []
    read = {t.table: (t.rows_read, t.rows_loaded) for t in rewritten.tables}
    assert read == {t.table: (t.rows_read, t.rows_loaded) for t in plain.tables}
    birth_dates = con.execute("select personbirthdate from raw.children_in_need__child").fetchall()
    assert any(value.endswith(("Z", ":00")) for (value,) in birth_dates)


# --- SSDA903 (CSV) -----------------------------------------------------------------------------


def test_903_codes_in_lower_case_or_as_words_load_as_the_codes(tmp_path) -> None:
    def respelt(path: Path) -> None:
        if path.name.endswith("_Header.csv"):
            words = {"F": "Female", "M": "male"}
            edit_text(
                path,
                lambda text: re.sub(
                    r"^(\w+),([MF]),(.*?),(\w+),",
                    lambda m: f"{m[1]},{words[m[2]]},{m[3]},{m[4].lower()},",
                    text,
                    flags=re.M,
                ),
            )
        elif path.name.endswith("_Episodes.csv"):
            edit_text(path, lambda text: re.sub(r",(PR\d|C2|U4|N1),", lambda m: m[0].lower(), text))

    con, _ = assert_same_rows(tmp_path, "looked_after", "2024-25", "2024-25", respelt)
    respellings = load_log(con, "codes_respelt")
    assert respellings["header"]["SEX"] == {"Female": "F", "male": "M"}
    assert respellings["header"]["ETHNIC"]["wbri"] == "WBRI"
    assert set(respellings["episodes"]) >= {"PLACE_PROVIDER", "LS"}


def test_903_rows_ending_in_a_delimiter_the_header_lacks_load(tmp_path) -> None:
    def trailing(path: Path) -> None:
        if path.suffix == ".csv":
            lines = path.read_text(encoding="utf-8-sig").splitlines()
            path.write_text("\n".join(lines[:1] + [line + "," for line in lines[1:]]) + "\n")

    assert_same_rows(tmp_path, "looked_after", "2024-25", "2024-25", trailing)


def test_903_values_padded_with_spaces_load_as_the_values(tmp_path) -> None:
    # A fixed-width export: CHILD padded in one table and not in the other still joins.
    def padded(path: Path) -> None:
        if path.name.endswith("_Header.csv"):
            edit_text(path, lambda text: re.sub(r"^(\w+),(\w),", r"\1  ,\2 ,", text, flags=re.M))

    assert_same_rows(tmp_path, "looked_after", "2024-25", "2024-25", padded)


def test_a_903_table_delivered_for_two_years_is_not_loaded_from_either(tmp_path) -> None:
    landing = tmp_path / "landing"
    folder = landing / "looked_after" / "2024-25"
    shutil.copytree(FIXTURES / "looked_after" / "2024-25", folder)
    episodes = folder / "SSDA903_2025_Episodes.csv"
    shutil.copy(episodes, folder / "SSDA903_2024_Episodes.csv")  # last year's, kept beside
    with duckdb.connect() as con:
        loaded = load_period(con, landing, "looked_after", "2024-25", run_id="t")
    failed = {f.source_file: f.problem for f in loaded.failed}
    assert sorted(failed) == ["SSDA903_2024_Episodes.csv", "SSDA903_2025_Episodes.csv"]
    assert all("delivered twice" in problem for problem in failed.values())
    assert "episodes" not in {t.table for t in loaded.tables}
    assert "header" in {t.table for t in loaded.tables}


# --- School Census and SEN2 (Blade CSV) --------------------------------------------------------


def test_a_pupil_table_with_the_specifications_headings_and_no_blade_bookkeeping_loads(
    tmp_path,
) -> None:
    headings = {"dob": "Date of Birth", "upn": "UPN", "formerupn": "Former UPN"}

    def specification_style(path: Path) -> None:
        if not path.name.endswith("_pupilonroll.csv"):
            return
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        header = lines[0].split(",")
        drop = {header.index("NativeId"), header.index("pupilonrollorderseqcolumn")}
        rows = [
            [value for i, value in enumerate(line.split(",")) if i not in drop] for line in lines
        ]
        rows[0] = [headings.get(name, name) for name in rows[0]]
        dob = rows[0].index("Date of Birth")
        for row in rows[1:]:  # Blade's date without its time: 2016-Mar-14
            row[dob] = row[dob].removesuffix(" 00:00:00")
        path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")

    plain_con, plain = load(tmp_path, "plain", "school_census", "2025-spring", "2025-spring")
    con, rewritten = load(
        tmp_path, "spec", "school_census", "2025-spring", "2025-spring", specification_style
    )
    assert rewritten.failed == []
    pupils = (
        "select upn, formerupn, surname, forename, dob, sex from raw.school_census__pupilonroll"
    )
    plain_rows = plain_con.execute(pupils).fetchall()
    rows = con.execute(pupils).fetchall()
    assert len(rows) == len(plain_rows) > 0
    blade_dates = [(*r[:4], r[4].removesuffix(" 00:00:00"), *r[5:]) for r in plain_rows]
    assert sorted(rows, key=repr) == sorted(blade_dates, key=repr)
    counts = [
        [(t.rows_read, t.rows_rejected) for t in load.tables if t.table == "pupilonroll"]
        for load in (plain, rewritten)
    ]
    assert counts[0] == counts[1]
    assert load_log(con, "aliases_applied")["pupilonroll"]["Date of Birth"] == "dob"


def test_a_school_census_return_in_another_terms_folder_is_refused_unless_accepted(
    tmp_path,
) -> None:
    # SOURCES.md: the schoolcensus table's referencedate is the truth; a spring return (census
    # day 2025-01-16) dropped into the autumn folder would be counted as the autumn census.
    landing = tmp_path / "landing"
    shutil.copytree(
        FIXTURES / "school_census" / "2025-spring", landing / "school_census" / "2024-autumn"
    )
    with duckdb.connect() as con:
        with pytest.raises(OtherPeriodRefused, match="referencedate dates are in 2025-spring"):
            load_period(con, landing, "school_census", "2024-autumn", run_id="t")
        assert con.execute(
            "select count(*) from information_schema.tables where table_schema = 'raw' "
            "and table_name = 'school_census__pupilonroll'"
        ).fetchone() == (0,)
        accepted = load_period(
            con, landing, "school_census", "2024-autumn", run_id="t", accept_other_period=True
        )
    assert "pupilonroll" in {t.table for t in accepted.tables}


def test_sen2_booleans_written_y_or_n_load(tmp_path) -> None:
    def yes_no(path: Path) -> None:
        yes_or_no = {"True": "Y", "False": "N"}
        edit_text(
            path,
            lambda text: re.sub(
                r"(?<=,)(True|False)(?=,|$)", lambda m: yes_or_no[m[1]], text, flags=re.M
            ),
        )

    _, plain = load(tmp_path, "plain", "sen2", "2025", "2025")
    con, rewritten = load(tmp_path, "yn", "sen2", "2025", "2025", yes_no)
    read = {t.table: (t.rows_read, t.rows_loaded, t.rows_rejected) for t in rewritten.tables}
    assert read == {t.table: (t.rows_read, t.rows_loaded, t.rows_rejected) for t in plain.tables}
    values = con.execute("select distinct rya from raw.sen2__requests").fetchall()
    assert values and {value for (value,) in values} <= {"Y", "N"}


def test_an_eyfsp_file_with_a_title_above_its_header_loads(tmp_path) -> None:
    # A report exported from an MIS: its title and a blank line above the column names.
    def titled(path: Path) -> None:
        path.write_text(
            "EYFSP results 2025 - all schools\n\n" + path.read_text(encoding="utf-8-sig")
        )

    fixture = FIXTURES / "attainment" / "mis_layout" / "eyfsp" / "2024-25"
    _, load = assert_same_rows(tmp_path, "eyfsp", fixture, "2024-25", titled)
    assert load.tables and load.unmodelled == []


def test_a_ks2_file_giving_the_school_as_la_and_establishment_numbers_loads(tmp_path) -> None:
    # The LA number and the establishment number in two columns (as DfE's EYFSP and phonics
    # layouts have them), not the seven-digit DfE number.
    def split(path: Path) -> None:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
        at = lines[0].split(",").index("LAEstab")
        rows = [line.split(",") for line in lines]
        rows[0][at : at + 1] = ["LA", "ESTAB"]
        for row in rows[1:]:
            row[at : at + 1] = [row[at][:3], row[at][3:]]
        path.write_text("\n".join(",".join(row) for row in rows) + "\n", encoding="utf-8")

    fixture = FIXTURES / "attainment_ks" / "ks2" / "portal"
    _, plain = load(tmp_path, "plain", "ks2", fixture, "2024-25")
    con, rewritten = load(tmp_path, "split", "ks2", fixture, "2024-25", split)
    assert rewritten.failed == []
    counts = [[(t.rows_read, t.rows_rejected) for t in x.tables] for x in (plain, rewritten)]
    assert counts[0] == counts[1]
    schools = con.execute('select distinct "LA" || "ESTAB" from raw.ks2__results').fetchall()
    assert ("8842011",) in schools


# --- extracts without a national layout ------------------------------------------------------


def test_a_gp_extract_writing_sex_as_letters_or_words_loads_them_as_nhs_codes(tmp_path) -> None:
    # SOURCES.md: health sexes 1 male, 2 female, 9 indeterminate, 0/X not known; a practice
    # system's extract writes M, Female, U.
    folder = tmp_path / "landing" / "gp" / "2024-10"
    folder.mkdir(parents=True)
    (folder / "gp_registrations_2024-10.csv").write_text(
        "REGISTRATION_ID,NHS_NUMBER,FORENAME,SURNAME,DATE_OF_BIRTH,SEX,POSTCODE,PRACTICE_CODE,"
        "REGISTRATION_START_DATE,REGISTRATION_END_DATE\n"
        "1,9990000018,Amara,Okafor,2012-01-01,M,HR1 2AB,m81297,2012-01-20,\n"
        "2,9990000026,Isla,Price,2013-02-02,Female,HR2 7AL,M81297,2013-03-01,\n"
        "3,9990000034,Sam,Kerr,2014-03-03,u,HR4 9QR,M81297,2014-04-01,\n"
        "4,9990000042,Noor,Ali,2015-04-04,X,HR3 5LS,M81297,2015-05-01,\n",
        encoding="utf-8",
    )
    with duckdb.connect() as con:
        loaded = load_period(con, tmp_path / "landing", "gp", "2024-10", run_id="t")
        assert [f for f in loaded.findings if f.action == "rejected"] == []
        sexes = con.execute("select sex from raw.gp__registrations order by registration_id")
        assert [sex for (sex,) in sexes.fetchall()] == ["1", "2", "0", "X"]
        respelt = load_log(con, "codes_respelt")["registrations"]
        assert respelt["SEX"] == {"M": "1", "Female": "2", "u": "0"}
        # A practice code typed in lower case is the practice's code.
        assert respelt["PRACTICE_CODE"] == {"m81297": "M81297"}


def test_a_case_management_names_extract_with_its_report_writers_headings_loads(
    tmp_path,
) -> None:
    folder = tmp_path / "landing" / "social_care_clients" / "2025-03"
    folder.mkdir(parents=True)
    (folder / "clients.csv").write_text(
        "Person ID,First Name,Last Name,Date of Birth,Gender,Post Code,NHS Number\n"
        "LA000101,Maisie,Ashworth,14/03/2012,Female,HR4 9QR,999 000 0018\n"
        "LA000102,Tomasz,Kowalczyk,07/11/2007,Male,HR1 1BB,\n",
        encoding="cp1252",
    )
    with duckdb.connect() as con:
        loaded = load_period(
            con, tmp_path / "landing", "social_care_clients", "2025-03", run_id="t"
        )
        assert loaded.failed == []
        assert [f for f in loaded.findings if f.action == "rejected"] == []
        rows = con.execute(
            'select "LAchildID", "Forename", "Surname", "DOB", "Sex" '
            "from raw.social_care_clients__clients order by 1"
        ).fetchall()
    assert rows == [
        ("LA000101", "Maisie", "Ashworth", "14/03/2012", "F"),
        ("LA000102", "Tomasz", "Kowalczyk", "07/11/2007", "M"),
    ]


@pytest.mark.parametrize("value", ["2016-Mar-14", "14-Mar-2016", "14-MAR-2016"])
def test_a_date_with_its_month_in_letters_is_read(value) -> None:
    from linkage_ops.ingest.reader import read_date

    assert read_date(value, "%d/%m/%Y").date().isoformat() == "2016-03-14"


def write_extract(tmp_path: Path, source: str, period: str, name: str, text: str) -> Path:
    folder = tmp_path / "landing" / source / period
    folder.mkdir(parents=True)
    (folder / name).write_text(text, encoding="utf-8")
    return tmp_path / "landing"


def test_causes_of_death_in_every_icd10_form_load(tmp_path) -> None:
    # HES and the civil registration data write ICD-10 with three characters (R95, sudden
    # infant death), four (P073, R69X), a full stop (P07.3) or a fifth marker (G01XA).
    causes = ["R95", "P07.3", "P073", "R69X", "W75", "G01XA"]
    rows = "".join(
        f"{n},9990000018,Child,Test,2024-01-0{n},2024-10-0{n},1,HR1 2AB,{cause}\n"
        for n, cause in enumerate(causes, start=1)
    )
    landing = write_extract(
        tmp_path,
        "deaths",
        "2024-10",
        "deaths_2024-10.csv",
        "DEATH_ID,NHS_NUMBER,FORENAME,SURNAME,DATE_OF_BIRTH,DATE_OF_DEATH,SEX,POSTCODE,"
        "CAUSE_OF_DEATH\n"
        + rows
        + "7,9990000026,Child,Test,2024-01-07,2024-10-07,2,HR1 2AB,9999\n",
    )
    with duckdb.connect() as con:
        loaded = load_period(con, landing, "deaths", "2024-10", run_id="t")
    rejected = [
        (f.row_number, f.field, f.reason) for f in loaded.findings if f.action == "rejected"
    ]
    assert rejected == [(8, "CAUSE_OF_DEATH", "not an ICD-10 code")]


def test_an_ecds_safeguarding_concern_as_a_snomed_concept_or_blank_loads(tmp_path) -> None:
    header = (
        "ATTENDANCE_ID,ORG_ID_PROV,NHS_NUMBER,PERSON_BIRTH_DATE,PERSON_STATED_GENDER_CODE,"
        "ETHNIC_CATEGORY,POSTCODE,ARRIVAL_DATE,ARRIVAL_TIME,CHIEF_COMPLAINT,DIAGNOSIS,"
        "SAFEGUARDING_CONCERN\n"
    )
    concerns = ["836881000000105", "", "N", "Y"]
    # Arrival times as ECDS writes them (hh:mm:ss) and as a spreadsheet may leave them.
    times = ["10:11:00", "10:12", "9:13:00", "10:14:00.000"]
    rows = "".join(
        f"{n},RA701,9990000018,2015-05-05,2,A,HR1 2AB,2024-10-1{n},{time},,,{concern}\n"
        for n, (concern, time) in enumerate(zip(concerns, times, strict=True), start=1)
    )
    landing = write_extract(
        tmp_path, "emergency_care", "2024-10", "ecds_2024-10.csv", header + rows
    )
    with duckdb.connect() as con:
        loaded = load_period(con, landing, "emergency_care", "2024-10", run_id="t")
        # As staging's time_of_day reads them on DuckDB.
        arrivals = con.execute(
            'select cast("ARRIVAL_TIME" as time) from raw.emergency_care__attendances order by 1'
        ).fetchall()
    assert [f for f in loaded.findings if f.action == "rejected"] == []
    assert sum(t.rows_loaded for t in loaded.tables) == len(concerns)
    assert [str(t) for (t,) in arrivals] == ["09:13:00", "10:11:00", "10:12:00", "10:14:00"]


def test_health_extracts_with_the_specifications_item_names_and_forms_load(tmp_path) -> None:
    # ECDS data item names as the NHS Data Dictionary writes them; a HES extract of two
    # diagnoses, not three; a CSDS patient whose provider's local id has its own form, whose
    # NHS number status lost its leading zero in a spreadsheet, and whose school is named as
    # the CSDS item OrgIDEduEstab.
    extracts = {
        ("emergency_care", "ecds_2024-10.csv"): (
            "ATTENDANCE_ID,ORGANISATION_IDENTIFIER_CODE_OF_PROVIDER,NHS_NUMBER,PERSON_BIRTH_DATE,"
            "PERSON_STATED_GENDER_CODE,ETHNIC_CATEGORY,POSTCODE_OF_USUAL_ADDRESS,"
            "EMERGENCY_CARE_ARRIVAL_DATE,EMERGENCY_CARE_ARRIVAL_TIME,"
            "EMERGENCY_CARE_CHIEF_COMPLAINT_SNOMED_CT,EMERGENCY_CARE_DIAGNOSIS_SNOMED_CT,"
            "SAFEGUARDING_CONCERN\n"
            "1,RLQ,9990000018,2015-03-01,1,A,HR1 2AB,2024-10-03,14:20:00,410429000,125605004,\n"
        ),
        ("admitted_care", "sus_apc_2024-10.csv"): (
            "EPIKEY,PROCODE3,NEWNHSNO,DOB,SEX,ETHNOS,HOMEADD,ADMIDATE,DISDATE,DIAG_4_01,DIAG_4_02\n"
            "300000000000,RLQ,9990000018,2012-01-15,1,X,HR2 8XY,2024-10-02,2024-10-04,N390,A09X\n"
        ),
        ("community_services", "CYP001MPI_2024-10.csv"): (
            "LocalPatientId,OrgIDProv,NHSNumber,NHSNumberStatus,PersonBirthDate,Gender,"
            "EthnicCategory,Postcode,OrgIDEduEstab\n"
            "RX4-000123,RYG,9990000026,1,2023-01-02,1,A,HR6 3UW,104621\n"
        ),
    }
    for (source, name), text in extracts.items():
        landing = write_extract(tmp_path / source, source, "2024-10", name, text)
        with duckdb.connect() as con:
            loaded = load_period(con, landing, source, "2024-10", run_id="t")
            assert loaded.failed == [], source
            assert [f for f in loaded.findings if f.action == "rejected"] == [], source
            assert sum(t.rows_loaded for t in loaded.tables) == 1, source
            if source == "community_services":
                status = con.execute('select "NHSNumberStatus" from raw.community_services__mpi')
                assert status.fetchone() == ("01",)
