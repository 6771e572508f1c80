with

source as (
    select * from {{ source('sen2', 'senneed') }}
),

renamed as (
    select
        source._period as census_period,
        source.senneedtableid as sen_need_id,
        source.activeplanstableid as active_plan_id,
        source.sentype as sen_type,
        source._source_file as source_file,
        source._row_number as source_row_number,
        cast(source.sentyperank as integer) as sen_type_rank,
        source._period || '/' || source.senneedtableid as sen_need_record_id
    from source
)

select * from renamed
