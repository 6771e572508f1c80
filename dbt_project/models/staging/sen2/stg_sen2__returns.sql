with

source as (
    select * from {{ source('sen2', 'header') }}
),

renamed as (
    select
        source._period || '/' || source.sen2tableid as return_record_id,
        source._period as census_period,
        source.sen2tableid as return_id,
        source.collection,
        source.year as stated_census_year,
        {{ parse_blade_date('source.referencedate') }} as census_date,
        source.lea as la_code,
        source.softwarecode as software_code,
        source.release as software_release,
        {{ parse_timestamp('source.datetime', '%Y-%b-%d %H:%M:%S') }} as returned_at,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
