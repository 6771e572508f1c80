with

source as (
    select * from {{ source('sen2', 'activeplans') }}
),

renamed as (
    select
        source._period || '/' || source.activeplanstableid as active_plan_record_id,
        source._period as census_period,
        cast(source.activeplanstableid as integer) as active_plan_id,
        source._period || '/' || source.persontableid as person_record_id,
        {{ parse_boolean('source.transferred') }} as is_transferred_in,
        {{ parse_blade_date('source.reviewmeeting') }} as last_review_date,
        source.reviewoutcome as review_outcome,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
