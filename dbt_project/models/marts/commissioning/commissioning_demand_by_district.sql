{#-
    Demand across education, social care and health by postcode district and need, as at the
    as-at date: living children per district in each cohort, and how many services (of
    social care, SEND, CAMHS, A&E in the year) know each child. Disclosure controlled.

    The need counts and the district totals are the cells planning_cohort_counts publishes by
    postcode district (cohort and 'all children'): each is withheld here wherever it is
    withheld there (primary or complementary), so that neither mart gives away what the other
    withholds. Each district's 'services known to' table is then controlled against its
    total. A district's need cells overlap (a child is in several cohorts): no total, so no
    complementary suppression across cohorts within a district.
-#}
with

as_at as (
    select as_at_date from {{ ref('as_at_date') }}
),

children as (
    select * from {{ ref('dim_child') }}
    where not is_deceased
),

health_events as (
    select * from {{ ref('fct_health_events') }}
),

attended_ae as (
    {{ attended_ae_in_year('health_events', 'as_at') }}
),

memberships as (
    {{ cohort_memberships('children') }}
),

-- The same counts in planning_cohort_counts, withheld or not there.
planning_by_district as (
    select
        cohort,
        breakdown_value as postcode_district,
        is_suppressed
    from {{ ref('planning_cohort_counts') }}
    where breakdown = 'postcode_district' and not is_total
),

services as (
    select
        children.person_key,
        coalesce(children.postcode_district, 'not known') as postcode_district,
        cast(children.is_currently_cin or children.is_currently_looked_after as integer)
        + cast(children.has_ehc_plan or children.has_sen_support as integer)
        + cast(children.is_known_to_camhs as integer)
        + cast(attended_ae.person_key is not null as integer) as services_known_to
    from children
    left join attended_ae on children.person_key = attended_ae.person_key
),

cells as (
    select
        'need' as measure,
        postcode_district,
        cohort as category,
        false as is_total,
        count(*) as children
    from memberships
    group by postcode_district, cohort
    union all
    select
        'services known to' as measure,
        postcode_district,
        case
            when services_known_to >= 3 then '3 or more services'
            when services_known_to = 2 then '2 services'
            when services_known_to = 1 then '1 service'
            else 'none of these services'
        end as category,
        false as is_total,
        count(*) as children
    from services
    group by postcode_district, category
    union all
    select
        'services known to' as measure,
        postcode_district,
        'all children' as category,
        true as is_total,
        count(*) as children
    from services
    group by postcode_district
),

cells_with_planning as (
    select
        cells.*,
        planning_by_district.is_suppressed as is_withheld_in_planning
    from cells
    left join planning_by_district
        on
            cells.postcode_district = planning_by_district.postcode_district
            and planning_by_district.cohort = case
                when cells.measure = 'need' then cells.category
                when cells.is_total then 'all children'
            end
),

controlled as (
    {{ disclosure_control('cells_with_planning', ['measure', 'postcode_district'], 'children',
        'category', withheld='is_withheld_in_planning') }}
),

final as (
    select
        as_at.as_at_date,
        controlled.measure,
        controlled.postcode_district,
        controlled.category,
        controlled.is_total,
        cast(controlled.children as bigint) as children,
        controlled.is_suppressed
    from controlled
    cross join as_at
)

select * from final
