with

source as (
    select * from {{ source('phonics', 'checks') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

threshold_marks as (
    select * from {{ ref('phonics_threshold_marks') }}
),

renamed as (
    select
        {{ attainment_pupil_columns('phonics', 'phonics_check_id', 'forenames') }},
        {{ normalise_postcode('source.postcode') }} as postcode,
        -- The school as the file gives it: its DfE number, or LA and establishment apart.
        coalesce(
            {{ clean_text('source.laestab') }},
            {{ clean_text('source.la') }} || {{ clean_text('source.estab') }}
        ) as school_laestab,
        {{ clean_text('source.urn') }} as school_urn,
        try_cast(source.ncyearactual as integer) as nc_year,
        cast(source.phonics_mark as integer) as phonics_mark,
        {{ clean_text('source.phonics_outcome') }} as phonics_outcome,
        threshold_marks.threshold_mark,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on upper(trim(source.sex)) = sex_codes.code
    left join threshold_marks on source._period = threshold_marks.academic_year
),

measured as (
    select
        *,
        -- The expected standard: a mark at or above the year's threshold. DfE counts a pupil
        -- absent, not checked or whose check was maladministered as not meeting it; a pupil
        -- who left is not counted, and nothing is known before the threshold is published.
        case
            when threshold_mark is null then null
            when phonics_mark is not null then phonics_mark >= threshold_mark
            when phonics_outcome in ('A', 'D', 'Q') then false
        end as met_phonics_standard
    from renamed
)

select * from measured
