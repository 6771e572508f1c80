with

source as (
    select * from {{ source('cyps', 'referrals') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'nhs'
),

renamed as (
    select
        source._period as extract_period,
        cast(source._period_end as date) as period_end,
        source.referral_reason,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source._period || '/' || source.referral_id as referral_record_id,
        {{ person_record_id('cyps', "source._period || '/' || source.referral_id") }}
            as person_record_id,
        cast(source.referral_id as integer) as referral_id,
        {{ normalise_nhs_number('source.nhs_number') }} as nhs_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.surname') }} as surname,
        {{ parse_date('source.date_of_birth', '%d/%m/%Y') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ normalise_postcode('source.postcode') }} as postcode,
        {{ parse_date('source.referral_date', '%d/%m/%Y') }} as referral_date,
        {{ parse_date('source.first_contact_date', '%d/%m/%Y') }} as first_contact_date,
        {{ parse_date('source.closure_date', '%d/%m/%Y') }} as closure_date
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
