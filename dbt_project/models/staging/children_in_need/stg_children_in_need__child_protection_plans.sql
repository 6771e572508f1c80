with

source as (
    select * from {{ source('children_in_need', 'child_protection_plans') }}
),

children as (
    select * from {{ source('children_in_need', 'child') }}
),

renamed as (
    select
        source._period || '/' || source._xml_key as child_protection_plan_record_id,
        source._period as collection_year,
        -- The child's person record is its Child element: <collection year>/<LAchildID>.
        {{ person_record_id('children_in_need', "source._period || '/' || children.lachildid") }}
            as person_record_id,
        source._parent_xml_key as cin_details_xml_key,
        children.lachildid as la_child_id,
        source.initialcategoryofabuse as initial_category_of_abuse,
        source.latestcategoryofabuse as latest_category_of_abuse,
        {{ parse_date('source.cppstartdate', '%Y-%m-%d') }} as plan_start_date,
        {{ parse_date('source.cppenddate', '%Y-%m-%d') }} as plan_end_date,
        cast(source.numberofpreviouscpp as integer) as number_of_previous_plans,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    -- The plan's child is the first part of its key: 12.2.1 -> Child 12.
    left join children
        on
            source._period = children._period
            and split_part(source._xml_key, '.', 1) = children._xml_key
)

select * from renamed
