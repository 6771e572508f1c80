{#-
    Linkage quality per source and period: how many records were linked to other records of
    the same child, how many stand alone, and how many belong to a child with a pair waiting
    for a reviewer. Disclosure controlled (see macros/disclosure_control.sql).
-#}
with

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

review_queue as (
    select * from {{ source('linkage', 'review_queue') }}
),

keys_in_review as (
    select distinct person_keys.person_key
    from review_queue
    inner join person_keys
        on
            review_queue.record_id_l = person_keys.person_record_id
            or review_queue.record_id_r = person_keys.person_record_id
),

records as (
    select
        person_keys.source,
        person_records.period,
        person_keys.match_method != 'singleton' as is_linked,
        keys_in_review.person_key is not null as is_in_review
    from person_keys
    inner join person_records on person_keys.person_record_id = person_records.record_id
    left join keys_in_review on person_keys.person_key = keys_in_review.person_key
),

cells as (
    select
        source,
        period,
        'link_status' as measure,
        'all records' as status,
        true as is_total,
        count(*) as records
    from records
    group by source, period
    union all
    select
        source,
        period,
        'link_status' as measure,
        case when is_linked then 'linked' else 'unlinked' end as status,
        false as is_total,
        count(*) as records
    from records
    group by source, period, is_linked
    union all
    select
        source,
        period,
        'review' as measure,
        'all records' as status,
        true as is_total,
        count(*) as records
    from records
    group by source, period
    union all
    select
        source,
        period,
        'review' as measure,
        case when is_in_review then 'child has a pair in review' else 'no pair in review' end
            as status,
        false as is_total,
        count(*) as records
    from records
    group by source, period, is_in_review
),

controlled as (
    {{ disclosure_control('cells', ['source', 'period', 'measure'], 'records', 'status') }}
),

final as (
    select
        source,
        period,
        measure,
        status,
        is_total,
        cast(records as bigint) as records,
        is_suppressed
    from controlled
)

select * from final
