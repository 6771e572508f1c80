with

source as (
    select * from {{ source('sen2', 'placementdetail') }}
),

renamed as (
    select
        source._period || '/' || source.placementdetailtableid as placement_detail_record_id,
        source._period as census_period,
        source.placementdetailtableid as placement_detail_id,
        source.activeplanstableid as active_plan_id,
        {{ clean_text('source.urn') }} as establishment_urn,
        {{ clean_text('source.ukprn') }} as provider_ukprn,
        {{ clean_text('source.sensetting') }} as sen_setting,
        cast(source.placementrank as integer) as placement_rank,
        {{ parse_blade_date('source.entrydate') }} as entry_date,
        {{ parse_blade_date('source.leavingdate') }} as leaving_date,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
