with

source as (
    select * from {{ source('sen2', 'activeplans') }}
),

requests as (
    select * from {{ source('sen2', 'requests') }}
),

renamed as (
    select
        source._period || '/' || source.activeplanstableid as active_plan_record_id,
        source._period as census_period,
        source.activeplanstableid as active_plan_id,
        source.requeststableid as request_id,
        -- An active plan hangs off the request that led to it; the request names the person.
        {{ person_record_id('sen2', "source._period || '/' || requests.persontableid") }}
            as person_record_id,
        {{ clean_text('source.transferla') }} as transferred_from_la,
        {{ clean_text('source.transferla') }} is not null as is_transferred_in,
        -- The review meeting where the return has it, else the review decision.
        coalesce(
            {{ parse_blade_date('source.reviewmeeting') }},
            {{ parse_blade_date('source.lastreview') }}
        ) as last_review_date,
        {{ parse_blade_date('source.reviewmeeting') }} as review_meeting_date,
        {{ parse_blade_date('source.lastreview') }} as review_decision_date,
        {{ clean_text('source.reviewoutcome') }} as review_outcome,
        {{ parse_blade_date('source.reviewdraft') }} as review_draft_issued_date,
        {{ parse_blade_date('source.phasetransferduedate') }} as phase_transfer_due_date,
        {{ parse_blade_date('source.phasetransferfinaldate') }} as phase_transfer_final_date,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join requests
        on
            source._period = requests._period
            and source.requeststableid = requests.requeststableid
)

select * from renamed
