with

source as (
    select * from {{ source('looked_after', 'header') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        source._period || '/' || source.child as child_record_id,
        {{ person_record_id('looked_after', "source._period || '/' || source.child") }}
            as person_record_id,
        source._period as collection_year,
        cast(source._period_end as date) as period_end,
        {{ clean_text('source.child') }} as la_child_id,
        -- UN1-UN5 say why there is no UPN; they are not UPNs.
        case
            when upper(trim(source.upn)) not like 'UN%' then upper({{ clean_text('source.upn') }})
        end as upn,
        case
            when upper(trim(source.upn)) like 'UN%' then upper(trim(source.upn))
        end as upn_unknown_code,
        {{ parse_date('source.dob', '%d/%m/%Y') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        source.ethnic as ethnicity_code,
        source.mother = '1' as is_mother,
        {{ parse_date('source.mc_dob', '%d/%m/%Y') }} as mothers_child_date_of_birth,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    -- SEX is 1/2 up to the 2023-24 return and M/F/U from 2024-25: the seed conforms both.
    left join sex_codes on upper(trim(source.sex)) = sex_codes.code
)

select * from renamed
