{#-
    How cohorts overlap as at the as-at date: of the living children in one cohort, how many
    are also in another (e.g. looked-after children with an EHC plan; children in need eligible
    for free school meals), with the share once disclosure control has been applied.
    Disclosure controlled per pair: the children also in the other cohort and those not (the
    cohort total minus the first) are the pair's cells; the count of children in both cohorts
    is the same cell of (A, B) and (B, A), withheld in both wherever either needs it.
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
        least(cohort.cohort, other.cohort) || ' & ' || greatest(cohort.cohort, other.cohort)
            as pair,
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

-- One table per ordered pair: the cohort's children, also in the other cohort or not. A count
-- of children in both is one cell (`cell`) of two tables, (A, B) and (B, A): withheld in
-- both or neither.
cells as (
    select
        cohort,
        other_cohort,
        'all in cohort' as status,
        true as is_total,
        count(*) as children,
        'cohort: ' || cohort as cell,
        true as is_published
    from pairs
    group by cohort, other_cohort
    union all
    select
        cohort,
        other_cohort,
        case when is_in_other then 'also in other cohort' else 'not in other cohort' end
            as status,
        false as is_total,
        count(*) as children,
        case
            when is_in_other then 'both: ' || pair
            else 'only: ' || cohort || ' not ' || other_cohort
        end as cell,
        true as is_published
    from pairs
    group by cohort, other_cohort, pair, is_in_other
    union all
    -- EHC plan and SEN support never overlap (dim_child), so their children known to CAMHS
    -- add up to the SEND children known to CAMHS, a count dashboard_kpis publishes: a table
    -- of its own, controlled with the rest but not published here.
    select
        'SEND (EHC plan or SEN support)' as cohort,
        other_cohort,
        cohort as status,
        false as is_total,
        count(*) as children,
        'both: ' || pair as cell,
        false as is_published
    from pairs
    where
        cohort in ('EHC plan', 'SEN support')
        and other_cohort = 'known to CAMHS'
        and is_in_other
    group by cohort, other_cohort, pair
    union all
    select
        'SEND (EHC plan or SEN support)' as cohort,
        other_cohort,
        'all SEND' as status,
        true as is_total,
        count(*) as children,
        'SEND known to CAMHS' as cell,
        false as is_published
    from pairs
    where
        cohort in ('EHC plan', 'SEN support')
        and other_cohort = 'known to CAMHS'
        and is_in_other
    group by other_cohort
),

-- A cohort's children are planning_cohort_counts' cohort total: withheld here wherever
-- they are withheld there, and never withheld here where published there.
planning_totals as (
    select
        cohort,
        bool_or(is_suppressed) as is_suppressed
    from {{ ref('planning_cohort_counts') }}
    where is_total
    group by cohort
),

cells_with_planning as (
    select
        cells.*,
        planning_totals.is_suppressed as is_withheld_in_planning
    from cells
    left join planning_totals on cells.cohort = planning_totals.cohort and cells.is_total
),

controlled as (
    {{ disclosure_control('cells_with_planning', ['cohort', 'other_cohort'], 'children',
        'status', cell_by=['cell'], withheld='is_withheld_in_planning') }}
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
    where is_published
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
        round(100 * cast(shares.children_also_in_other as double) / shares.cohort_children, 1)
            as percent_also_in_other
    from shares
    cross join as_at
)

select * from final
