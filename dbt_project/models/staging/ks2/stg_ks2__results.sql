with

source as (
    select * from {{ source('ks2', 'results') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        {{ attainment_pupil_columns('ks2', 'ks2_result_id') }},
        {{ school_laestab() }} as school_laestab,
        {{ clean_text('source.urn') }} as school_urn,
        -- Each test: a raw score (flagged at load, not refused: read leniently), a scaled
        -- score (80-120) and an outcome, AS or NS, or a results code instead of a score.
        try_cast(source.readingrawscore as integer) as reading_raw_score,
        cast(source.readingscaledscore as integer) as reading_scaled_score,
        upper(trim(source.readingoutcome)) as reading_outcome,
        try_cast(source.mathsrawscore as integer) as maths_raw_score,
        cast(source.mathsscaledscore as integer) as maths_scaled_score,
        upper(trim(source.mathsoutcome)) as maths_outcome,
        try_cast(source.gpsrawscore as integer) as gps_raw_score,
        cast(source.gpsscaledscore as integer) as gps_scaled_score,
        upper(trim(source.gpsoutcome)) as gps_outcome,
        -- Teacher assessment: writing for every pupil, reading and maths only below the tests.
        upper(trim(source.writingta)) as writing_ta,
        upper(trim(source.readingta)) as reading_ta,
        upper(trim(source.mathsta)) as maths_ta,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on upper(trim(source.gender)) = sex_codes.code
),

measured as (
    select
        *,
        -- A results code instead of a scaled score (absent, working below the test...) is not
        -- the expected standard; writing is expected at EXS or GDS.
        coalesce(reading_scaled_score >= 100, false) as reading_met_expected_standard,
        coalesce(maths_scaled_score >= 100, false) as maths_met_expected_standard,
        coalesce(gps_scaled_score >= 100, false) as gps_met_expected_standard,
        coalesce(writing_ta in ('EXS', 'GDS'), false) as writing_met_expected_standard,
        coalesce(
            reading_scaled_score >= 100
            and maths_scaled_score >= 100
            and writing_ta in ('EXS', 'GDS'),
            false
        ) as met_expected_standard_rwm,
        coalesce(
            reading_scaled_score >= 110
            and maths_scaled_score >= 110
            and writing_ta = 'GDS',
            false
        ) as met_higher_standard_rwm,
        -- DfE leaves out of the measure a pupil who left, whose result is missing, or who
        -- completes the key stage in another year.
        not coalesce(
            reading_outcome in ('L', 'M', 'F', 'P')
            or maths_outcome in ('L', 'M', 'F', 'P')
            or writing_ta in ('L', 'F', 'P'),
            false
        ) as is_counted_in_rwm_measure
    from renamed
)

select * from measured
