{#-
    One row per health event across the health feeds, each with the child's person_key.

    Monthly feeds repeat a registration or referral in every extract while it is open; such
    events are kept once, from the latest extract that carries them (the most complete end
    and first-contact dates). An event's child is the person record it was delivered with:
    the row itself, or for CAMHS referrals and CSDS contacts the patient's MPI row in the
    same extract.

    Each event's kind is labelled (event_type_label); its code is described from the code list
    of its feed where the warehouse holds one (CAMHS team types, community services, CYPS
    referral reasons, CHIS events). GP practice codes (ODS), A&E diagnoses (SNOMED CT) and
    admission diagnoses (ICD-10) come from national code systems no list here covers: their
    description stays blank, so the column is not a `_label` column.
-#}
with

gp_registrations as (
    select * from {{ ref('stg_gp__registrations') }}
),

ae_attendances as (
    select * from {{ ref('stg_emergency_care__attendances') }}
),

admissions as (
    select * from {{ ref('stg_admitted_care__episodes') }}
),

camhs_referrals as (
    select * from {{ ref('stg_camhs__referrals') }}
),

community_contacts as (
    select * from {{ ref('stg_community_services__care_contacts') }}
),

cyps_referrals as (
    select * from {{ ref('stg_cyps__referrals') }}
),

child_health_events as (
    select * from {{ ref('stg_child_health__events') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

latest_gp_registrations as (
    {{ deduplicate('gp_registrations', 'registration_id', 'extract_period desc') }}
),

latest_camhs_referrals as (
    {{ deduplicate('camhs_referrals', 'service_request_id', 'extract_period desc') }}
),

latest_cyps_referrals as (
    {{ deduplicate('cyps_referrals', 'referral_id', 'extract_period desc') }}
),

events as (
    select
        'gp:' || cast(registration_id as string) as health_event_id,
        'gp' as feed,
        person_record_id,
        'gp_registration_start' as event_type,
        registration_start_date as event_date,
        registration_end_date as end_date,
        practice_code as event_code,
        cast(null as date) as referral_date,
        cast(null as date) as first_contact_date,
        extract_period
    from latest_gp_registrations

    union all

    select
        'emergency_care:' || attendance_record_id as health_event_id,
        'emergency_care' as feed,
        person_record_id,
        'ae_attendance' as event_type,
        arrival_date as event_date,
        cast(null as date) as end_date,
        diagnosis_code as event_code,
        cast(null as date) as referral_date,
        cast(null as date) as first_contact_date,
        extract_period
    from ae_attendances

    union all

    select
        'admitted_care:' || episode_record_id as health_event_id,
        'admitted_care' as feed,
        person_record_id,
        'admission' as event_type,
        admission_date as event_date,
        discharge_date as end_date,
        primary_diagnosis_code as event_code,
        cast(null as date) as referral_date,
        cast(null as date) as first_contact_date,
        extract_period
    from admissions

    union all

    select
        'camhs:' || service_request_id as health_event_id,
        'camhs' as feed,
        person_record_id,
        'camhs_referral' as event_type,
        referral_received_date as event_date,
        discharge_date as end_date,
        team_type_code as event_code,
        referral_received_date as referral_date,
        first_contact_date,
        extract_period
    from latest_camhs_referrals

    union all

    select
        'community_services:' || care_contact_record_id as health_event_id,
        'community_services' as feed,
        person_record_id,
        'community_contact' as event_type,
        care_contact_date as event_date,
        cast(null as date) as end_date,
        service_or_team_type as event_code,
        cast(null as date) as referral_date,
        cast(null as date) as first_contact_date,
        extract_period
    from community_contacts

    union all

    select
        'cyps:' || cast(referral_id as string) as health_event_id,
        'cyps' as feed,
        person_record_id,
        'cyps_referral' as event_type,
        referral_date as event_date,
        closure_date as end_date,
        referral_reason as event_code,
        referral_date,
        first_contact_date,
        extract_period
    from latest_cyps_referrals

    union all

    select
        'child_health:' || event_record_id as health_event_id,
        'child_health' as feed,
        person_record_id,
        'child_health_event' as event_type,
        event_date,
        cast(null as date) as end_date,
        event_code,
        cast(null as date) as referral_date,
        cast(null as date) as first_contact_date,
        extract_period
    from child_health_events
),

final as (
    select
        events.health_event_id,
        person_keys.person_key,
        events.feed,
        events.event_type,
        {{ code_label('health_event_type', 'events.event_type') }} as event_type_label,
        events.event_date,
        events.end_date,
        events.event_code,
        case events.feed
            when 'camhs'
                then {{ code_label('mhsds_service_team_type', 'events.event_code') }}
            when 'community_services'
                then {{ code_label('community_service_type', 'events.event_code') }}
            when 'cyps'
                then {{ code_label('cyps_referral_reason', 'events.event_code') }}
            when 'child_health'
                then {{ code_label('chis_event', 'events.event_code') }}
        end as event_code_description,
        events.referral_date,
        events.first_contact_date,
        cast({{ days_between('events.referral_date', 'events.first_contact_date') }} as integer)
            as waiting_days,
        events.extract_period
    from events
    inner join person_keys on events.person_record_id = person_keys.person_record_id
)

select * from final
