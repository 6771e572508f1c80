with

source as (
    select * from {{ source('admitted_care', 'episodes') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

ethnicity_codes as (
    select * from {{ ref('ethnicity_nhs_to_dfe') }}
),

renamed as (
    select
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        source.procode3 as provider_code,
        source.ethnos as ethnic_category,
        ethnicity_codes.dfe_code as ethnicity_code,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.epikey as episode_record_id,
        {{ person_record_id('admitted_care', "source._period || '/' || source.epikey") }}
            as person_record_id,
        cast(source.epikey as bigint) as episode_key,
        {{ normalise_nhs_number('source.newnhsno') }} as nhs_number,
        {{ parse_date('source.dob', '%Y-%m-%d') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.homeadd') }} as postcode,
        {{ parse_date('source.admidate', '%Y-%m-%d') }} as admission_date,
        {{ parse_date('source.disdate', '%Y-%m-%d') }} as discharge_date,
        {{ clean_text('source.diag_4_01') }} as primary_diagnosis_code,
        {{ clean_text('source.diag_4_02') }} as second_diagnosis_code,
        {{ clean_text('source.diag_4_03') }} as third_diagnosis_code
    from source
    left join sex_codes on source.sex = sex_codes.code
    left join ethnicity_codes on upper(trim(source.ethnos)) = ethnicity_codes.nhs_code
)

select * from renamed
