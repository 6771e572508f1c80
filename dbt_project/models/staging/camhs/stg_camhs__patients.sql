with

source as (
    select * from {{ source('camhs', 'mpi') }}
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
        source.localpatientid as local_patient_id,
        source.orgidprov as provider_code,
        source.ethniccategory as ethnic_category,
        ethnicity_codes.dfe_code as ethnicity_code,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.localpatientid as patient_record_id,
        {{ person_record_id('camhs', "source._period || '/' || source.localpatientid") }}
            as person_record_id,
        {{ normalise_nhs_number('source.nhsnumber') }} as nhs_number,
        {{ parse_date('source.personbirthdate', '%Y-%m-%d') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode
    from source
    left join sex_codes on source.gender = sex_codes.code
    left join ethnicity_codes on upper(trim(source.ethniccategory)) = ethnicity_codes.nhs_code
)

select * from renamed
