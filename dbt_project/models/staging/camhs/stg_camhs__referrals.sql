with

source as (
    select * from {{ source('camhs', 'referrals') }}
),

renamed as (
    select
        _period as extract_period,
        servicerequestid as service_request_id,
        orgidprov as provider_code,
        localpatientid as local_patient_id,
        sourceofreferralmh as referral_source_code,
        servteamtypereftomh as team_type_code,
        _source_file as source_file,
        _row_number as source_row_number,
        _period || '/' || localpatientid as patient_record_id,
        {{ person_record_id('camhs', "_period || '/' || localpatientid") }} as person_record_id,
        {{ parse_date('referralrequestreceiveddate', '%Y-%m-%d') }} as referral_received_date,
        {{ parse_date('firstcontactdate', '%Y-%m-%d') }} as first_contact_date,
        {{ parse_date('servdischdate', '%Y-%m-%d') }} as discharge_date
    from source
)

select * from renamed
