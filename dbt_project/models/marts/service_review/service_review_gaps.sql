{#-
    Gaps in services, by postcode district, as at the as-at date: looked-after children with
    no health assessment recorded in the SSDA903 OC2 table; children with SEND who attended A&E
    in the last year and are not known to CAMHS; children in need not registered with a GP.
    Living children only. Disclosure controlled, with each gap's total row.
-#}
with

as_at as (
    select as_at_date from {{ ref('as_at_date') }}
),

children as (
    select * from {{ ref('dim_child') }}
    where not is_deceased
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

outcomes as (
    select * from {{ ref('stg_looked_after__oc2') }}
),

health_events as (
    select * from {{ ref('fct_health_events') }}
),

health_assessed as (
    select distinct person_keys.person_key
    from outcomes
    inner join person_keys on outcomes.person_record_id = person_keys.person_record_id
    where outcomes.had_health_assessment
),

attended_ae as (
    {{ attended_ae_in_year('health_events', 'as_at') }}
),

gaps as (
    select
        children.person_key,
        children.postcode_district,
        'looked after without a health assessment' as gap
    from children
    left join health_assessed on children.person_key = health_assessed.person_key
    where children.is_currently_looked_after and health_assessed.person_key is null
    union all
    select
        children.person_key,
        children.postcode_district,
        'SEND with A&E attendance and no CAMHS contact' as gap
    from children
    inner join attended_ae on children.person_key = attended_ae.person_key
    where (children.has_ehc_plan or children.has_sen_support) and not children.is_known_to_camhs
    union all
    select
        person_key,
        postcode_district,
        'child in need not registered with a GP' as gap
    from children
    where is_currently_cin and not is_registered_with_gp
),

cells as (
    select
        gap,
        coalesce(postcode_district, 'not known') as postcode_district,
        false as is_total,
        count(*) as children
    from gaps
    group by gap, coalesce(postcode_district, 'not known')
    union all
    select
        gap,
        'all districts' as postcode_district,
        true as is_total,
        count(*) as children
    from gaps
    group by gap
),

controlled as (
    {{ disclosure_control('cells', ['gap'], 'children', 'postcode_district') }}
),

final as (
    select
        as_at.as_at_date,
        controlled.gap,
        controlled.postcode_district,
        controlled.is_total,
        cast(controlled.children as bigint) as children,
        controlled.is_suppressed
    from controlled
    cross join as_at
)

select * from final
