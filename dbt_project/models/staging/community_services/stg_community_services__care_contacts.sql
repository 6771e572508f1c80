with

source as (
    select * from {{ source('community_services', 'care_contacts') }}
),

renamed as (
    select
        _period as extract_period,
        localpatientid as local_patient_id,
        orgidprov as provider_code,
        serviceorteamtype as service_or_team_type,
        attendordnacode as attend_or_dna_code,
        _source_file as source_file,
        _row_number as source_row_number,
        _period || '/' || carecontactid as care_contact_record_id,
        _period || '/' || localpatientid as patient_record_id,
        {{ person_record_id('community_services', "_period || '/' || localpatientid") }}
            as person_record_id,
        cast(carecontactid as integer) as care_contact_id,
        {{ parse_date('carecontdate', '%Y-%m-%d') }} as care_contact_date
    from source
)

select * from renamed
