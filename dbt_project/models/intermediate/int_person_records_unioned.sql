{#- Every identifying record from every source in one shape: the input of linkage. -#}
with

pupils as (
    select * from {{ ref('stg_school_census__pupils') }}
),

addresses as (
    select * from {{ ref('stg_school_census__addresses') }}
),

gp_registrations as (
    select * from {{ ref('stg_gp__registrations') }}
),

pupil_home_address as (
    -- A pupil normally has one address row; if a school sends more, take the first.
    select
        census_period,
        pupil_on_roll_id,
        postcode
    from addresses
    qualify row_number() over (
        partition by census_period, pupil_on_roll_id order by address_id
    ) = 1
),

school_census_records as (
    select
        'school_census' as source,
        pupils.pupil_record_id as source_record_id,
        pupils.census_period as period,
        pupils.forename as first_name,
        pupils.middle_names,
        pupils.surname as last_name,
        pupils.former_surname as former_last_name,
        pupils.date_of_birth,
        pupils.sex,
        pupil_home_address.postcode,
        pupils.upn,
        pupils.former_upn,
        cast(null as varchar) as nhs_number,
        cast(null as varchar) as la_child_id
    from pupils
    left join pupil_home_address
        on
            pupils.census_period = pupil_home_address.census_period
            and pupils.pupil_on_roll_id = pupil_home_address.pupil_on_roll_id
),

gp_records as (
    select
        'gp' as source,
        registration_record_id as source_record_id,
        extract_period as period,
        forename as first_name,
        cast(null as varchar) as middle_names,
        surname as last_name,
        cast(null as varchar) as former_last_name,
        date_of_birth,
        sex,
        postcode,
        cast(null as varchar) as upn,
        cast(null as varchar) as former_upn,
        nhs_number,
        cast(null as varchar) as la_child_id
    from gp_registrations
),

unioned as (
    select * from school_census_records
    union all
    select * from gp_records
)

select
    *,
    source || ':' || source_record_id as record_id
from unioned
