{#-
    The groups and the year of DfE's "Outcomes for children in need, including children looked
    after by local authorities in England", written once: fct_pupil_outcomes applies these
    rules to each pupil and academic year, and the outcome marts read its flags through
    outcome_groups(), so no mart restates a rule.

    DfE pairs an academic year (1 August to 31 July) with the children's social care year that
    ends on the 31 March inside it: outcomes for 2024-25 are reported for children in need in
    the year 1 April 2024 to 31 March 2025 and looked after for 12 months at 31 March 2025.
-#}

{#- (group as published, flag in fct_pupil_outcomes). One list, so every mart means the same
    thing by "looked after 12 months or more". -#}
{% macro outcome_groups() -%}
    {{ return([
        ('all pupils', 'is_pupil'),
        ('children in need', 'is_cin'),
        ('child protection plan', 'is_cp_plan'),
        ('looked after 12 months or more', 'is_looked_after_12_months'),
        ('in need in the last six years', 'is_cin_in_last_6_years'),
        ('SEN support', 'has_sen_support'),
        ('EHC plan', 'has_ehc_plan'),
        ('free school meals', 'is_fsm_eligible'),
    ]) }}
{%- endmacro %}

{% macro academic_year_of(date_column) -%}
    {#- The academic year (1 August to 31 July) a date falls in, e.g. 2024-25: its first
        calendar year is the year of the day seven months earlier. -#}
    cast(year({{ date_column }} - interval 7 month) as string)
    || '-'
    || right(cast(year({{ date_column }} - interval 7 month) + 1 as string), 2)
{%- endmacro %}

{% macro academic_year_start_year(academic_year) -%}
    {#- The calendar year an academic year begins in (2024 for 2024-25). -#}
    cast(left({{ academic_year }}, 4) as integer)
{%- endmacro %}

{% macro outcome_year_start(academic_year, years=1) -%}
    {#- The 1 April that starts the `years` social care years to the 31 March inside the
        academic year: 1 April 2024 for 2024-25, 1 April 2019 for six years. -#}
    make_date({{ academic_year_start_year(academic_year) }} - {{ years - 1 }}, 4, 1)
{%- endmacro %}

{% macro outcome_year_end(academic_year) -%}
    {#- The 31 March inside the academic year: the end of the social care year DfE pairs it
        with (31 March 2025 for 2024-25). -#}
    make_date({{ academic_year_start_year(academic_year) }} + 1, 3, 31)
{%- endmacro %}

{% macro was_open_between(start_date, end_date, from_date, to_date) -%}
    {#- Open at any point from `from_date` to `to_date`, both days included. An end date is the
        last day of the episode or plan (DfE counts an episode closed on 1 April in the year
        that starts that day); a blank end date is still open. -#}
    coalesce(
        {{ start_date }} <= {{ to_date }}
        and ({{ end_date }} is null or {{ end_date }} >= {{ from_date }}),
        false
    )
{%- endmacro %}

{% macro was_open_in_year(start_date, end_date, academic_year) -%}
    {#- Open at any point in the year to 31 March (1 April to 31 March) paired with the
        academic year: a child in need episode, a child protection plan, an episode of care. -#}
    {{ was_open_between(
        start_date, end_date,
        outcome_year_start(academic_year), outcome_year_end(academic_year)) }}
{%- endmacro %}

{% macro was_open_in_last_6_years(start_date, end_date, academic_year) -%}
    {#- Open at any point in the six years to that 31 March (1 April 2019 to 31 March 2025
        for 2024-25). -#}
    {{ was_open_between(
        start_date, end_date,
        outcome_year_start(academic_year, years=6), outcome_year_end(academic_year)) }}
{%- endmacro %}

{% macro was_open_in_academic_year(start_date, end_date, academic_year) -%}
    {#- Open at any point in the academic year itself (1 August to 31 July): an EHC plan. -#}
    {{ was_open_between(
        start_date, end_date,
        'make_date(' ~ academic_year_start_year(academic_year) ~ ', 8, 1)',
        'make_date(' ~ academic_year_start_year(academic_year) ~ ' + 1, 7, 31)') }}
{%- endmacro %}

{% macro short_break_legal_statuses() -%}
    {#- SSDA903 legal statuses of an agreed series of short-term breaks (respite): DfE leaves
        children in such care out of "looked after for 12 months" (SSDA903 validation: an
        episode with V3 or V4 in the year means not continuously looked after). -#}
    ('V3', 'V4')
{%- endmacro %}

{% macro is_looked_after_12_months(period_start_date, period_end_date, academic_year) -%}
    {#- A period of care covering the whole twelve months to 31 March: started on or before
        1 April of the year before (1 April 2024 for 31 March 2025: looked after every day of
        the year; DfE's validation rules treat an entry to care after that day as a break) and
        not ended by 31 March (a period ending on 31 March ended in the year, as in the
        SSDA903). Periods chain episodes that run on without a break, so a break in care is two
        periods and neither covers the year. fct_pupil_outcomes also leaves out children on
        short breaks in the year (short_break_legal_statuses). -#}
    coalesce(
        {{ period_start_date }} <= {{ outcome_year_start(academic_year) }}
        and (
            {{ period_end_date }} is null
            or {{ period_end_date }} > {{ outcome_year_end(academic_year) }}
        ),
        false
    )
{%- endmacro %}

{% macro key_stage(national_curriculum_year) -%}
    {#- The key stage of a national curriculum year (School Census ncyearactual). -#}
    case
        when {{ national_curriculum_year }} in ('E1', 'E2', 'N1', 'N2', 'R') then 'early years'
        when {{ national_curriculum_year }} in ('1', '2') then 'key stage 1'
        when {{ national_curriculum_year }} in ('3', '4', '5', '6') then 'key stage 2'
        when {{ national_curriculum_year }} in ('7', '8', '9') then 'key stage 3'
        when {{ national_curriculum_year }} in ('10', '11') then 'key stage 4'
        when {{ national_curriculum_year }} in ('12', '13', '14') then 'post-16'
        when {{ national_curriculum_year }} = 'X' then 'national curriculum not followed'
        else 'not known'
    end
{%- endmacro %}

{% macro ethnicity_group(ethnicity_code) -%}
    {#- DfE's major ethnic group of a DfE ethnicity code, main or extended (WENG is under
        WBRI): the code's first letter is its group (Chinese, CHNE, is under Asian, as DfE
        publishes it). Refused, not obtained and blank are Unclassified. -#}
    case
        when {{ ethnicity_code }} is null or {{ ethnicity_code }} in ('REFU', 'NOBT')
            then 'Unclassified'
        when {{ ethnicity_code }} = 'CHNE' then 'Asian'
        else
            case left({{ ethnicity_code }}, 1)
                when 'W' then 'White'
                when 'M' then 'Mixed'
                when 'A' then 'Asian'
                when 'B' then 'Black'
                when 'O' then 'Other'
                else 'Unclassified'
            end
    end
{%- endmacro %}

{#-
    The published outcome measures, aggregated from rows of fct_pupil_outcomes (one per child
    and cell) grouped by `dimensions`: one row per cell and measure with
      pupils: the children the figure is about (its cohort: every pupil of the cell for the
        measure `pupils`; with possible sessions, on roll in January, counted in the
        assessment),
      numerator: what is counted (sessions missed, absentees, exclusions, standards met; blank
        for an average),
      denominator: what it is a share of (possible sessions, or the pupils),
      is_share_of_pupils: the denominator is `pupils`,
      score_total: the sum of the scores an average is taken over.
    Measures with no pupils and no count in a cell have no row.
-#}
{% macro outcome_measure_cells(relation, dimensions) -%}
    {%- set dims = dimensions | join(', ') -%}
    {#- (measure, pupils, numerator, denominator, is_share_of_pupils, score_total) -#}
    {%- set measures = [
        ('pupils', 'pupils_in_cell', 'pupils_in_cell', 'null', 'false', 'null'),
        ('sessions_overall_absence', 'pupils_with_possible_sessions',
            'sessions_overall_absence', 'sessions_possible', 'false', 'null'),
        ('persistent_absentees', 'pupils_with_possible_sessions',
            'persistent_absentees', 'pupils_with_possible_sessions', 'true', 'null'),
        ('severe_absentees', 'pupils_with_possible_sessions',
            'severe_absentees', 'pupils_with_possible_sessions', 'true', 'null'),
        ('suspensions', 'pupils_on_roll_in_january',
            'suspensions', 'pupils_on_roll_in_january', 'true', 'null'),
        ('permanent_exclusions', 'pupils_on_roll_in_january',
            'permanent_exclusions', 'pupils_on_roll_in_january', 'true', 'null'),
        ('good_level_of_development', 'eyfsp_pupils',
            'good_level_of_development', 'eyfsp_pupils', 'true', 'null'),
        ('met_phonics_standard', 'phonics_pupils',
            'met_phonics_standard', 'phonics_pupils', 'true', 'null'),
        ('expected_standard_rwm', 'ks2_pupils',
            'expected_standard_rwm', 'ks2_pupils', 'true', 'null'),
        ('attainment_8', 'attainment_8_pupils',
            'null', 'attainment_8_pupils', 'true', 'attainment_8_total'),
        ('english_maths_grade_4_or_above', 'english_maths_pupils',
            'english_maths_grade_4_or_above', 'english_maths_pupils', 'true', 'null'),
        ('english_maths_grade_5_or_above', 'english_maths_pupils',
            'english_maths_grade_5_or_above', 'english_maths_pupils', 'true', 'null'),
    ] -%}
    select
        {{ dims }},
        measures.measure,
        measures.pupils,
        measures.numerator,
        measures.denominator,
        measures.is_share_of_pupils,
        measures.score_total
    from (
        select
            {{ dims }},
            count(*) as pupils_in_cell,
            count(*) filter (where sessions_possible > 0) as pupils_with_possible_sessions,
            sum(sessions_possible) filter (where sessions_possible > 0) as sessions_possible,
            sum(sessions_overall_absence) filter (where sessions_possible > 0)
                as sessions_overall_absence,
            count(*) filter (where is_persistently_absent) as persistent_absentees,
            count(*) filter (where is_severely_absent) as severe_absentees,
            count(*) filter (where is_on_roll_in_january) as pupils_on_roll_in_january,
            coalesce(sum(suspensions), 0) as suspensions,
            coalesce(sum(permanent_exclusions), 0) as permanent_exclusions,
            count(good_level_of_development) as eyfsp_pupils,
            count(*) filter (where good_level_of_development) as good_level_of_development,
            count(met_phonics_standard) as phonics_pupils,
            count(*) filter (where met_phonics_standard) as met_phonics_standard,
            count(met_expected_standard_rwm) as ks2_pupils,
            count(*) filter (where met_expected_standard_rwm) as expected_standard_rwm,
            count(attainment_8) as attainment_8_pupils,
            sum(attainment_8) as attainment_8_total,
            count(english_maths_grade_4_or_above) as english_maths_pupils,
            count(*) filter (where english_maths_grade_4_or_above)
                as english_maths_grade_4_or_above,
            count(*) filter (where english_maths_grade_5_or_above)
                as english_maths_grade_5_or_above
        from {{ relation }}
        group by {{ dims }}
    ) as aggregated,
        lateral (
            {%- for measure, pupils, numerator, denominator, is_share, score_total in measures %}
            select
                '{{ measure }}' as measure,
                {{ pupils }} as pupils,
                {{ numerator }} as numerator,
                {{ denominator }} as denominator,
                {{ is_share }} as is_share_of_pupils,
                {{ score_total }} as score_total
            {{ "union all" if not loop.last }}
            {%- endfor %}
        ) as measures
    -- Suspensions and permanent exclusions count every pupil's (DfE's rate: those begun in
    -- the year per pupil on roll in January; a pupil excluded in the autumn is off roll by
    -- then): a cell whose only such pupils were not on roll in January keeps its row, so a
    -- total is still the sum of its parts.
    where measures.pupils > 0 or measures.numerator > 0
{%- endmacro %}

{#-
    Disclosure control of outcome_measure_cells, the same rules as every aggregate mart
    (macros/disclosure_control.sql), applied to the children and to the count: `pupils` and
    `numerator` of 1-4 withheld, each with secondary suppression within `partition_by` (or
    every count rounded, by configuration); the count is withheld too where its pupils are, and
    the denominator, rate and average are blank unless the pupils are published and number at
    least the threshold (so an absence rate over sessions never describes one or two
    children). `relation` needs an `is_total` column; `order_by` breaks ties in choosing the
    secondary suppression.
-#}
{% macro controlled_outcome_measures(relation, partition_by, order_by) -%}
    {%- set threshold = var('disclosure_threshold', 5) -%}
    with

    raw_cells as (
        select
            *,
            pupils as pupils_before_control
        from {{ relation }}
    ),

    pupils_controlled as (
        {{ disclosure_control('raw_cells', partition_by, 'pupils', order_by) | indent(8) }}
    ),

    pupils_marked as (
        select
            {{ star_except(['is_suppressed']) }},
            is_suppressed as is_pupils_suppressed
        from pupils_controlled
    ),

    counts_controlled as (
        {{ disclosure_control('pupils_marked', partition_by, 'numerator', order_by) | indent(8) }}
    ),

    published as (
        select
            {{ star_except(['pupils', 'numerator', 'denominator', 'is_suppressed']) }},
            pupils_before_control >= {{ threshold }} and pupils is not null as is_publishable,
            cast(pupils as bigint) as pupils,
            cast(case when pupils is not null then numerator end as bigint) as numerator,
            cast(
                case
                    when pupils is null or pupils_before_control < {{ threshold }} then null
                    when is_share_of_pupils then pupils
                    when denominator >= {{ threshold }} then denominator
                end
                as bigint
            ) as denominator,
            is_pupils_suppressed or is_suppressed as is_suppressed
        from counts_controlled
    )

    select
        {{ star_except(
            ['is_publishable', 'pupils_before_control', 'score_total', 'is_share_of_pupils']) }},
        case
            when is_publishable and numerator is not null and denominator > 0
                then 100 * cast(numerator as double) / denominator
        end as rate_per_100,
        case
            when is_publishable and score_total is not null
                then score_total / pupils_before_control
        end as average_score
    from published
{%- endmacro %}
