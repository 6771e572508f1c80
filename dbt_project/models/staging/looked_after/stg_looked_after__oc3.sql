with

source as (
    select * from {{ source('looked_after', 'oc3') }}
),

renamed as (
    select
        source._period || '/' || source.child as child_record_id,
        {{ person_record_id('looked_after', "source._period || '/' || source.child") }}
            as person_record_id,
        source._period as collection_year,
        {{ clean_text('source.child') }} as la_child_id,
        {{ parse_date('source.dob', '%d/%m/%Y') }} as date_of_birth,
        source.in_touch as in_touch_code,
        source.activ as activity_code,
        source.accom as accommodation_code,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
