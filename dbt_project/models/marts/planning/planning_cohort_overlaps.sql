{#-
    How cohorts overlap as at the as-at date: of the living children in one cohort, how many
    are also in another (e.g. looked-after children with an EHC plan; children in need eligible
    for free school meals), with the share once disclosure control has been applied.
-#}
with

as_at as (
    select as_at_date from {{ ref('as_at_date') }}
),

children as (
    select * from {{ ref('dim_child') }}
    where not is_deceased
),

memberships as (
    {{ cohort_memberships('children') }}
),

pairs as (
    select
        cohort.cohort,
        other.cohort as other_cohort,
        cohort.person_key,
        bool_or(other_member.person_key is not null) as is_in_other
    from memberships as cohort
    cross join (select distinct memberships.cohort from memberships) as other
    left join memberships as other_member
        on
            cohort.person_key = other_member.person_key
            and other.cohort = other_member.cohort
    where cohort.cohort != other.cohort
    group by cohort.cohort, other.cohort, cohort.person_key
),

cells as (
    select
        cohort,
        other_cohort,
        'all in cohort' as status,
        true as is_total,
        count(*) as children
    from pairs
    group by cohort, other_cohort
    union all
    select
        cohort,
        other_cohort,
        case when is_in_other then 'also in other cohort' else 'not in other cohort' end
            as status,
        false as is_total,
        count(*) as children
    from pairs
    group by cohort, other_cohort, is_in_other
),

controlled as (
    {{ disclosure_control('cells', ['cohort', 'other_cohort'], 'children', 'status') }}
),

shares as (
    select
        cohort,
        other_cohort,
        max(children) filter (where is_total) as cohort_children,
        -- No cell at all means nobody (0); a cell withheld by disclosure control stays null.
        case
            when bool_or(status = 'also in other cohort')
                then max(children) filter (where status = 'also in other cohort')
            else 0
        end as children_also_in_other,
        bool_or(is_suppressed) as is_suppressed
    from controlled
    group by cohort, other_cohort
),

final as (
    select
        as_at.as_at_date,
        shares.cohort,
        shares.other_cohort,
        cast(shares.cohort_children as bigint) as cohort_children,
        cast(shares.children_also_in_other as bigint) as children_also_in_other,
        shares.is_suppressed,
        round(100.0 * shares.children_also_in_other / shares.cohort_children, 1)
            as percent_also_in_other
    from shares
    cross join as_at
)

select * from final
