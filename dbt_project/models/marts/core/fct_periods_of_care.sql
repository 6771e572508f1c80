{#- One row per period of care: consecutive episodes chained in fct_looked_after_episodes. -#}
with

episodes as (
    select * from {{ ref('fct_looked_after_episodes') }}
),

as_at as (
    select * from {{ ref('as_at_date') }}
),

first_episodes as (
    select * from episodes
    where episode_number_in_period = 1
),

last_episodes as (
    {{ deduplicate('episodes', 'period_of_care_id', 'episode_number_in_period desc') }}
),

episode_counts as (
    select
        period_of_care_id,
        cast(count(*) as integer) as number_of_episodes
    from episodes
    group by period_of_care_id
),

final as (
    select
        first_episodes.period_of_care_id,
        first_episodes.person_key,
        first_episodes.episode_start_date as period_start_date,
        last_episodes.episode_end_date as period_end_date,
        last_episodes.reason_episode_ceased as reason_period_ceased,
        last_episodes.reason_episode_ceased_label as reason_period_ceased_label,
        first_episodes.legal_status as legal_status_at_start,
        first_episodes.legal_status_label as legal_status_at_start_label,
        first_episodes.placement_type as placement_type_at_start,
        first_episodes.placement_type_label as placement_type_at_start_label,
        last_episodes.legal_status as latest_legal_status,
        last_episodes.legal_status_label as latest_legal_status_label,
        last_episodes.placement_type as latest_placement_type,
        last_episodes.placement_type_label as latest_placement_type_label,
        episode_counts.number_of_episodes,
        coalesce(first_episodes.reason_new_episode = 'S', false) as starts_with_entry_to_care,
        coalesce(
            first_episodes.episode_start_date <= as_at.as_at_date
            and (
                last_episodes.episode_end_date is null
                or last_episodes.episode_end_date > as_at.as_at_date
            ),
            false
        ) as is_open
    from first_episodes
    inner join last_episodes on first_episodes.period_of_care_id = last_episodes.period_of_care_id
    inner join episode_counts on first_episodes.period_of_care_id = episode_counts.period_of_care_id
    cross join as_at
)

select * from final
