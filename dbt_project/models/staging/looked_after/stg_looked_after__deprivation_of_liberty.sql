with

source as (
    select * from {{ source('looked_after', 'dolo') }}
),

renamed as (
    -- A child may have several orders in a year: each row is one order.
    select
        source._period || '/' || source._row_number as order_record_id,
        source._period as collection_year,
        {{ clean_text('source.child') }} as la_child_id,
        {{ parse_date('source.dob', '%d/%m/%Y') }} as date_of_birth,
        {{ parse_date('source.dolo_start', '%d/%m/%Y') }} as order_start_date,
        {{ parse_date('source.dolo_end', '%d/%m/%Y') }} as order_end_date,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
