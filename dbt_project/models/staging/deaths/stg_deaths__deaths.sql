with

source as (
    select * from {{ source('deaths', 'deaths') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

renamed as (
    select
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        source.cause_of_death,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.death_id as death_record_id,
        {{ person_record_id('deaths', "source._period || '/' || source.death_id") }}
            as person_record_id,
        cast(source.death_id as integer) as death_id,
        {{ normalise_nhs_number('source.nhs_number') }} as nhs_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.surname') }} as surname,
        {{ parse_date('source.date_of_birth', '%Y-%m-%d') }} as date_of_birth,
        {{ parse_date('source.date_of_death', '%Y-%m-%d') }} as date_of_death,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
