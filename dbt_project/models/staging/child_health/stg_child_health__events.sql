with

source as (
    select * from {{ source('child_health', 'events') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

renamed as (
    select
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        source.gp_practice_code,
        source.school_urn,
        source.event_type,
        source.event_code,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.event_id as event_record_id,
        {{ person_record_id('child_health', "source._period || '/' || source.event_id") }}
            as person_record_id,
        cast(source.event_id as integer) as event_id,
        {{ normalise_nhs_number('source.nhs_number') }} as nhs_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.surname') }} as surname,
        {{ parse_date('source.date_of_birth', '%d/%m/%Y') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode,
        {{ parse_date('source.event_date', '%d/%m/%Y') }} as event_date
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
