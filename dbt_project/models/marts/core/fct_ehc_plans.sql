{#-
    One row per EHC plan in each SEN2 return: every plan active on the January census day
    (activeplans, which reaches its person through the request it hangs off), and every plan
    issued or ceased in the year (namedplan) that is not one of those (it ceased, or the return
    lists no active plan for the person). An active plan takes the start date of the person's
    latest plan issued in the year and not ceased; SEN2 does not carry the start of a plan
    issued in an earlier year, so that stays blank.
-#}
with

active_plans as (
    select * from {{ ref('stg_sen2__active_plans') }}
),

placement_details as (
    select * from {{ ref('stg_sen2__placement_details') }}
),

sen_needs as (
    select * from {{ ref('stg_sen2__sen_needs') }}
),

named_plans as (
    select * from {{ ref('stg_sen2__named_plans') }}
),

plan_details as (
    select * from {{ ref('stg_sen2__plan_details') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

as_at as (
    select * from {{ ref('as_at_date') }}
),

main_placements as (
    {{ deduplicate('placement_details', 'census_period, active_plan_id',
        'placement_rank nulls last, placement_detail_id nulls last') }}
),

primary_needs as (
    {{ deduplicate('sen_needs', 'census_period, active_plan_id',
        'sen_type_rank nulls last, sen_need_id nulls last') }}
),

main_named_settings as (
    {{ deduplicate('plan_details', 'census_period, named_plan_id',
        'placement_rank nulls last, plan_detail_id nulls last') }}
),

open_named_plans as (
    select * from named_plans
    where plan_cease_date is null
),

-- The plan issued in the year that an active plan on census day continues.
issued_plans_still_open as (
    {{ deduplicate('open_named_plans', 'census_period, person_record_id',
        'plan_start_date desc, named_plan_id desc') }}
),

active as (
    select
        active_plans.census_period || '/active-' || active_plans.active_plan_id as ehc_plan_id,
        active_plans.person_record_id,
        active_plans.census_period,
        issued_plans_still_open.named_plan_id,
        issued_plans_still_open.plan_start_date,
        cast(null as date) as plan_cease_date,
        cast(null as string) as cease_reason,
        true as is_active_on_census_day,
        main_placements.sen_setting,
        main_placements.establishment_urn,
        main_placements.provider_ukprn,
        primary_needs.sen_type as primary_need,
        active_plans.last_review_date
    from active_plans
    left join issued_plans_still_open
        on
            active_plans.census_period = issued_plans_still_open.census_period
            and active_plans.person_record_id = issued_plans_still_open.person_record_id
    left join main_placements
        on
            active_plans.census_period = main_placements.census_period
            and active_plans.active_plan_id = main_placements.active_plan_id
    left join primary_needs
        on
            active_plans.census_period = primary_needs.census_period
            and active_plans.active_plan_id = primary_needs.active_plan_id
),

issued_not_active as (
    select
        named_plans.census_period || '/issued-' || named_plans.named_plan_id as ehc_plan_id,
        named_plans.person_record_id,
        named_plans.census_period,
        named_plans.named_plan_id,
        named_plans.plan_start_date,
        named_plans.plan_cease_date,
        named_plans.cease_reason,
        false as is_active_on_census_day,
        main_named_settings.sen_setting,
        main_named_settings.establishment_urn,
        main_named_settings.provider_ukprn,
        cast(null as string) as primary_need,
        cast(null as date) as last_review_date
    from named_plans
    left join main_named_settings
        on
            named_plans.census_period = main_named_settings.census_period
            and named_plans.named_plan_id = main_named_settings.named_plan_id
    left join active
        on
            named_plans.census_period = active.census_period
            and named_plans.named_plan_id = active.named_plan_id
    where active.ehc_plan_id is null
),

plans as (
    select * from active
    union all
    select * from issued_not_active
),

final as (
    select
        plans.ehc_plan_id,
        person_keys.person_key,
        plans.census_period,
        plans.plan_start_date,
        plans.plan_cease_date,
        plans.cease_reason,
        {{ code_label('sen2_cease_reason', 'plans.cease_reason') }} as cease_reason_label,
        plans.is_active_on_census_day,
        plans.sen_setting,
        {{ code_label('sen_setting', 'plans.sen_setting') }} as sen_setting_label,
        plans.establishment_urn,
        plans.provider_ukprn,
        plans.primary_need,
        {{ code_label('sen_type', 'plans.primary_need') }} as primary_need_label,
        plans.last_review_date,
        coalesce(
            (plans.plan_start_date is null or plans.plan_start_date <= as_at.as_at_date)
            and (plans.plan_cease_date is null or plans.plan_cease_date > as_at.as_at_date),
            false
        ) as is_open
    from plans
    inner join person_keys on plans.person_record_id = person_keys.person_record_id
    cross join as_at
)

select * from final
