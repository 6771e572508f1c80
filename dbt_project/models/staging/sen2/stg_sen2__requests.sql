with

source as (
    select * from {{ source('sen2', 'requests') }}
),

renamed as (
    select
        source._period || '/' || source.requeststableid as request_record_id,
        source._period as census_period,
        source.requeststableid as request_id,
        {{ person_record_id('sen2', "source._period || '/' || source.persontableid") }}
            as person_record_id,
        {{ parse_blade_date('source.receiveddate') }} as received_date,
        source.requestoutcome as request_outcome,
        {{ parse_blade_date('source.requestoutcomedate') }} as request_outcome_date,
        {{ parse_boolean('source.requestmediation') }} as went_to_mediation,
        {{ parse_boolean('source.requesttribunal') }} as went_to_tribunal,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
