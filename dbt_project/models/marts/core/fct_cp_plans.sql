{#- One row per child protection plan (CIN census ChildProtectionPlans). -#}
with

child_protection_plans as (
    select * from {{ ref('stg_children_in_need__child_protection_plans') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

as_at as (
    select * from {{ ref('as_at_date') }}
),

linked as (
    select
        child_protection_plans.*,
        person_keys.person_key
    from child_protection_plans
    inner join person_keys
        on child_protection_plans.person_record_id = person_keys.person_record_id
),

-- A plan open across 31 March is in both years' returns: keep the latest return's.
deduplicated as (
    {{ deduplicate('linked',
        'person_key, coalesce(cast(plan_start_date as string), child_protection_plan_record_id)',
        'collection_year desc, child_protection_plan_record_id desc') }}
),

final as (
    select
        deduplicated.child_protection_plan_record_id as cp_plan_id,
        deduplicated.person_key,
        deduplicated.collection_year,
        deduplicated.plan_start_date,
        deduplicated.plan_end_date,
        deduplicated.initial_category_of_abuse,
        {{ code_label('cin_abuse_category', 'deduplicated.initial_category_of_abuse') }}
            as initial_category_of_abuse_label,
        deduplicated.latest_category_of_abuse,
        {{ code_label('cin_abuse_category', 'deduplicated.latest_category_of_abuse') }}
            as latest_category_of_abuse_label,
        deduplicated.number_of_previous_plans,
        coalesce(
            deduplicated.plan_start_date <= as_at.as_at_date
            and (
                deduplicated.plan_end_date is null
                or deduplicated.plan_end_date > as_at.as_at_date
            ),
            false
        ) as is_open
    from deduplicated
    cross join as_at
)

select * from final
