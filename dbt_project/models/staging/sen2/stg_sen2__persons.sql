with

source as (
    select * from {{ source('sen2', 'person') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        source._period || '/' || source.persontableid as sen2_person_id,
        {{ person_record_id('sen2', "source._period || '/' || source.persontableid") }}
            as person_record_id,
        source._period as census_period,
        cast(source._period_end as date) as period_end,
        source.persontableid as person_id,
        upper({{ clean_text('source.upn') }}) as upn,
        source.upnunknown as upn_unknown_code,
        {{ clean_text('source.uniquelearnernumber') }} as unique_learner_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.surname') }} as surname,
        {{ parse_blade_date('source.personbirthdate') }} as date_of_birth,
        -- Sex (M/F) from the 2025 return; gendercurrent (1/2) before it.
        coalesce(sex_codes.sex, 'U') as sex,
        source.ethnicity as ethnicity_code,
        {{ normalise_postcode('source.postcode') }} as postcode,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on coalesce(source.sex, source.gendercurrent) = sex_codes.code
)

select * from renamed
