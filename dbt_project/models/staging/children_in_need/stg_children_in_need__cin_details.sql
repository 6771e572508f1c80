with

source as (
    select * from {{ source('children_in_need', 'cin_details') }}
),

children as (
    select * from {{ source('children_in_need', 'child') }}
),

renamed as (
    select
        source._period || '/' || source._xml_key as cin_details_record_id,
        source._period as collection_year,
        -- The child's person record is its Child element: <collection year>/<LAchildID>.
        {{ person_record_id('children_in_need', "source._period || '/' || children.lachildid") }}
            as person_record_id,
        source._xml_key as cin_details_xml_key,
        children.lachildid as la_child_id,
        source.referralsource as referral_source,
        source.primaryneedcode as primary_need_code,
        source.reasonforclosure as reason_for_closure,
        {{ parse_date('source.cinreferraldate', '%Y-%m-%d') }} as referral_date,
        {{ parse_date('source.cinclosuredate', '%Y-%m-%d') }} as closure_date,
        {{ parse_date('source.dateofinitialcpc', '%Y-%m-%d') }} as initial_cpc_date,
        {{ parse_boolean('source.referralnfa') }} as is_referral_nfa,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join children
        on
            source._period = children._period
            and source._parent_xml_key = children._xml_key
)

select * from renamed
