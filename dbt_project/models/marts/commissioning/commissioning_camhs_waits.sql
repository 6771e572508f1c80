{#-
    CAMHS referrals and waiting times (referral to first contact) for children in need,
    looked-after children and children with SEND, against all referred children. Referrals
    counted over all loaded periods; medians only where the count is published.
-#}
{#- (group, the children in it) -#}
{%- set child_groups = [
    ('all referred children', 'true'),
    ('children in need (ever)', 'children.is_ever_cin'),
    ('looked after (ever)', 'children.is_ever_looked_after'),
    ('SEND', 'children.has_ehc_plan or children.has_sen_support'),
] -%}
with

children as (
    select * from {{ ref('dim_child') }}
),

referrals as (
    select * from {{ ref('fct_health_events') }}
    where event_type = 'camhs_referral'
),

-- Generated branches confuse the layout rules; the rendered SQL is what runs.
-- noqa: disable=LT02
groups as (
    {%- for child_group, condition in child_groups %}
    select
        referrals.person_key,
        referrals.waiting_days,
        '{{ child_group }}' as child_group
    from referrals
    inner join children on referrals.person_key = children.person_key
    where {{ condition }}
    {{- "\n    union all" if not loop.last }}
    {%- endfor %}
),
-- noqa: enable=LT02

cells as (
    select
        'camhs referrals' as measure,
        child_group,
        false as is_total,
        count(*) as referrals,
        count(distinct person_key) as children,
        median(waiting_days) as median_waiting_days,
        count(waiting_days) as referrals_seen
    from groups
    group by child_group
),

controlled as (
    {{ disclosure_control('cells', ['measure', 'child_group'], 'children', 'child_group') }}
),

final as (
    select
        child_group,
        cast(case when not is_suppressed then referrals end as bigint) as referrals,
        cast(children as bigint) as children,
        -- A small count of referrals seen is withheld like any other small count.
        cast(
            case
                when not is_suppressed and referrals_seen not between 1 and 4 then referrals_seen
            end as bigint
        ) as referrals_seen,
        is_suppressed,
        case when not is_suppressed then median_waiting_days end as median_waiting_days
    from controlled
)

select * from final
