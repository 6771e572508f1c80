{#- Every identifying record from every source in one shape: the input of linkage. -#}
{%- set health = {'period': 'extract_period', 'date_of_birth': 'date_of_birth', 'sex': 'sex',
    'postcode': 'postcode', 'nhs_number': 'nhs_number'} -%}
{%- set person_sources = [
    ('school_census', 'stg_school_census__leavers', {
        'source_record_id': 'leaver_record_id', 'period': 'census_period',
        'first_name': 'forename', 'middle_names': 'middle_names', 'last_name': 'surname',
        'former_last_name': 'former_surname', 'date_of_birth': 'date_of_birth', 'sex': 'sex',
        'postcode': 'postcode', 'upn': 'upn', 'former_upn': 'former_upn'}, {}),
    ('gp', 'stg_gp__registrations', {'source_record_id': 'registration_record_id', 'first_name': 'forename', 'last_name': 'surname'}, health),
    ('children_in_need', 'stg_children_in_need__children', {
        'source_record_id': 'child_record_id', 'period': 'collection_year',
        'date_of_birth': 'date_of_birth', 'sex': 'sex', 'upn': 'upn', 'former_upn': 'former_upn',
        'la_child_id': 'la_child_id'}, {}),
    ('social_care_clients', 'stg_social_care_clients__clients', {'source_record_id': 'client_record_id', 'first_name': 'forename', 'last_name': 'surname', 'la_child_id': 'la_child_id'}, health),
    ('looked_after', 'stg_looked_after__children', {
        'source_record_id': 'child_record_id', 'period': 'collection_year',
        'date_of_birth': 'date_of_birth', 'sex': 'sex', 'upn': 'upn',
        'la_child_id': 'la_child_id'}, {}),
    ('sen2', 'stg_sen2__persons', {
        'source_record_id': 'sen2_person_id', 'period': 'census_period',
        'first_name': 'forename', 'last_name': 'surname', 'date_of_birth': 'date_of_birth',
        'sex': 'sex', 'postcode': 'postcode', 'upn': 'upn'}, {}),
    ('community_services', 'stg_community_services__patients',
        {'source_record_id': 'patient_record_id'}, health),
    ('camhs', 'stg_camhs__patients', {'source_record_id': 'patient_record_id'}, health),
    ('cyps', 'stg_cyps__referrals', {'source_record_id': 'referral_record_id', 'first_name': 'forename', 'last_name': 'surname'}, health),
    ('emergency_care', 'stg_emergency_care__attendances',
        {'source_record_id': 'attendance_record_id'}, health),
    ('admitted_care', 'stg_admitted_care__episodes',
        {'source_record_id': 'episode_record_id'}, health),
    ('child_health', 'stg_child_health__events', {'source_record_id': 'event_record_id', 'first_name': 'forename', 'last_name': 'surname'}, health),
    ('births', 'stg_births__births', {'source_record_id': 'birth_record_id'}, health),
    ('deaths', 'stg_deaths__deaths', {'source_record_id': 'death_record_id', 'first_name': 'forename', 'last_name': 'surname'}, health),
    ('ks2', 'stg_ks2__results', {
        'source_record_id': 'ks2_result_id', 'period': 'academic_year', 'first_name': 'forename',
        'last_name': 'surname', 'date_of_birth': 'date_of_birth', 'sex': 'sex', 'upn': 'upn'}, {}),
    ('ks4', 'stg_ks4__results', {
        'source_record_id': 'ks4_result_id', 'period': 'academic_year', 'first_name': 'forename',
        'last_name': 'surname', 'date_of_birth': 'date_of_birth', 'sex': 'sex', 'upn': 'upn'}, {}),
    ('eyfsp', 'stg_eyfsp__profiles', {
        'source_record_id': 'eyfsp_profile_id', 'period': 'academic_year',
        'first_name': 'forename', 'last_name': 'surname', 'date_of_birth': 'date_of_birth',
        'sex': 'sex', 'postcode': 'postcode', 'upn': 'upn'}, {}),
    ('phonics', 'stg_phonics__checks', {
        'source_record_id': 'phonics_check_id', 'period': 'academic_year',
        'first_name': 'forename', 'last_name': 'surname', 'date_of_birth': 'date_of_birth',
        'sex': 'sex', 'postcode': 'postcode', 'upn': 'upn'}, {}),
] -%}
with

pupils as (
    select * from {{ ref('stg_school_census__pupils') }}
),

addresses as (
    select * from {{ ref('stg_school_census__addresses') }}
),

pupil_home_address as (
    -- A pupil normally has one address row; if a school sends more, take the first.
    {{ deduplicate('addresses', 'census_period, pupil_on_roll_id', 'address_id nulls last') }}
),

school_census_records as (
    select
        'school_census' as source,
        pupils.pupil_record_id as source_record_id,
        pupils.person_record_id,
        pupils.census_period as period,
        pupils.period_end,
        pupils.forename as first_name,
        pupils.middle_names,
        pupils.surname as last_name,
        pupils.former_surname as former_last_name,
        pupils.date_of_birth,
        pupils.sex,
        pupil_home_address.postcode,
        pupils.upn,
        pupils.former_upn,
        cast(null as string) as nhs_number,
        cast(null as string) as la_child_id
    from pupils
    left join pupil_home_address
        on
            pupils.census_period = pupil_home_address.census_period
            and pupils.pupil_on_roll_id = pupil_home_address.pupil_on_roll_id
),

-- Generated CTEs confuse the layout rules; the rendered SQL is what runs.
-- noqa: disable=LT02
{%- for source_name, model, fields, defaults in person_sources %}
{{ source_name }}_{{ loop.index }}_records as (
    {{ person_record(source_name, model, fields, defaults) }}
),
{% endfor %}

unioned as (
    select * from school_census_records
    {%- for source_name, model, fields, defaults in person_sources %}
    union all
    select * from {{ source_name }}_{{ loop.index }}_records
    {%- endfor %}
)
-- noqa: enable=LT02

select
    {{ star_except(['person_record_id']) }},
    person_record_id as record_id,
    {{ is_valid_nhs_number('nhs_number') }} as nhs_number_is_valid,
    {{ is_valid_upn('upn') }} as upn_is_valid,
    {{ is_valid_upn('former_upn') }} as former_upn_is_valid
from unioned
