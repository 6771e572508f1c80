{#-
    One row per child: dim_child's survivorship with the identifiers a practitioner needs.
    Identifiers survive by the same rules (macros/survivorship.sql), from valid values only:
    an NHS number passing Modulus 11, a UPN with the right check letter, a well-formed
    postcode. Forename and surname come from the same record.
-#}
{%- set valid_postcode = "case when " ~ is_valid_postcode('postcode') ~ " then postcode end" -%}
with

dim_child as (
    select * from {{ ref('dim_child') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

linked_records as (
    select
        person_records.*,
        person_keys.person_key
    from person_records
    inner join person_keys on person_records.record_id = person_keys.person_record_id
),

identifiers as (
    select
        person_key,
        {{ survivor('first_name', 'name', where='last_name is not null') }} as first_name,
        {{ survivor('last_name', 'name', where='first_name is not null') }} as last_name,
        {{ survivor('middle_names', 'name') }} as middle_names,
        {{ survivor('date_of_birth', 'date_of_birth') }} as date_of_birth,
        {{ survivor('case when nhs_number_is_valid then nhs_number end', 'nhs_number') }}
            as nhs_number,
        {{ survivor('case when upn_is_valid then upn end', 'upn') }} as upn,
        {{ survivor(valid_postcode, 'postcode', most_recent_first=true) }} as postcode
    from linked_records
    group by person_key
),

final as (
    select
        dim_child.person_key,
        identifiers.first_name,
        identifiers.middle_names,
        identifiers.last_name,
        identifiers.date_of_birth,
        dim_child.sex,
        dim_child.sex_label,
        dim_child.ethnicity,
        dim_child.ethnicity_label,
        dim_child.age_years,
        dim_child.age_band,
        identifiers.nhs_number,
        identifiers.upn,
        identifiers.postcode,
        dim_child.postcode_district,
        dim_child.is_deceased,
        dim_child.died_on,
        dim_child.as_at_date
    from dim_child
    left join identifiers on dim_child.person_key = identifiers.person_key
)

select * from final
