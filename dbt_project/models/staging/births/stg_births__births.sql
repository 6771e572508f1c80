with

source as (
    select * from {{ source('births', 'births') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

renamed as (
    select
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        source.mother_nhs_number,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.birth_id as birth_record_id,
        {{ person_record_id('births', "source._period || '/' || source.birth_id") }}
            as person_record_id,
        cast(source.birth_id as integer) as birth_id,
        {{ normalise_nhs_number('source.nhs_number') }} as nhs_number,
        {{ parse_date('source.date_of_birth', '%Y-%m-%d') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode,
        cast(source.birth_weight as integer) as birth_weight_grams,
        cast(source.gestation_weeks as integer) as gestation_weeks,
        {{ parse_date('source.mother_date_of_birth', '%Y-%m-%d') }} as mother_date_of_birth
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
