with

source as (
    select * from {{ source('children_in_need', 'child') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        source._period || '/' || source.lachildid as child_record_id,
        {{ person_record_id('children_in_need', "source._period || '/' || source.lachildid") }}
            as person_record_id,
        source._period as collection_year,
        cast(source._period_end as date) as period_end,
        source._xml_key as child_xml_key,
        {{ clean_text('source.lachildid') }} as la_child_id,
        upper({{ clean_text('source.upn') }}) as upn,
        upper({{ clean_text('source.formerupn') }}) as former_upn,
        source.upnunknown as upn_unknown_code,
        {{ parse_date('source.personbirthdate', '%Y-%m-%d') }} as date_of_birth,
        {{ parse_date('source.expectedpersonbirthdate', '%Y-%m-%d') }} as expected_date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ parse_date('source.persondeathdate', '%Y-%m-%d') }} as date_of_death,
        source.ethnicity as ethnicity_code,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    -- Sex (M/F/U) from the 2024-25 return, GenderCurrent (1/2/0/9) up to 2023-24: the
    -- seed maps both DfE code sets to M/F/U.
    left join sex_codes on coalesce(source.sex, source.gendercurrent) = sex_codes.code
)

select * from renamed
