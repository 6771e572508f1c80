{#-
    One row per SSDA903 episode of care, repaired and chained into periods of care.

    Repairs (real returns carry these faults): an episode keyed twice (same child, same start)
    is kept once, preferring the latest return and a row with an end date; an episode that
    ends after the next one starts is ended on the next start; an episode left open although
    a later one starts is ended on the next start with reason X1 (care went on), unless the
    next episode is a new entry to care (reason new episode S).

    Chaining: an episode continues the previous episode's period of care when the previous
    one ended with X1 (episode ceases, a new one begins in the same period) on the day this
    one starts. Any other reason ceased, or a gap, starts a new period. An episode with no
    end date is open, and so is its period.
-#}
with

episodes as (
    select * from {{ ref('stg_looked_after__episodes') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

linked as (
    select
        episodes.*,
        person_keys.person_key
    from episodes
    inner join person_keys on episodes.person_record_id = person_keys.person_record_id
),

counted as (
    select
        *,
        cast(count(*) over (partition by person_key, episode_start_date) - 1 as integer)
            as duplicates_removed
    from linked
),

deduplicated as (
    {{ deduplicate('counted', 'person_key, episode_start_date',
        'collection_year desc, episode_end_date is not null desc, source_row_number desc') }}
),

with_next as (
    select
        *,
        lead(episode_start_date) over (
            partition by person_key order by episode_start_date
        ) as next_start_date,
        lead(reason_new_episode) over (
            partition by person_key order by episode_start_date
        ) as next_reason_new_episode
    from deduplicated
),

repaired as (
    select
        *,
        case
            when next_start_date is null then null
            when episode_end_date is null then 'open_before_next_episode'
            when episode_end_date > next_start_date then 'overlaps_next_episode'
        end as end_date_repair,
        case
            when next_start_date is not null and episode_end_date is null then next_start_date
            when episode_end_date > next_start_date then next_start_date
            else episode_end_date
        end as repaired_end_date,
        case
            when next_start_date is not null and episode_end_date is null
                then case when next_reason_new_episode != 'S' then 'X1' end
            else reason_episode_ceased
        end as repaired_reason_ceased
    from with_next
),

with_previous as (
    select
        *,
        lag(repaired_end_date) over (
            partition by person_key order by episode_start_date
        ) as previous_end_date,
        lag(repaired_reason_ceased) over (
            partition by person_key order by episode_start_date
        ) as previous_reason_ceased
    from repaired
),

chained as (
    select
        *,
        sum(
            case
                when previous_reason_ceased = 'X1' and previous_end_date = episode_start_date then 0
                else 1
            end
        ) over (
            partition by person_key order by episode_start_date rows unbounded preceding
        ) as period_of_care_number
    from with_previous
),

final as (
    select
        episode_record_id as episode_id,
        person_key,
        collection_year,
        episode_start_date,
        repaired_end_date as episode_end_date,
        reason_new_episode,
        {{ code_label('reason_new_episode', 'chained.reason_new_episode') }}
            as reason_new_episode_label,
        legal_status,
        {{ code_label('legal_status', 'chained.legal_status') }} as legal_status_label,
        category_of_need,
        {{ code_label('cin_need', 'chained.category_of_need') }} as category_of_need_label,
        placement_type,
        {{ code_label('placement', 'chained.placement_type') }} as placement_type_label,
        placement_provider,
        {{ code_label('placement_provider', 'chained.placement_provider') }}
            as placement_provider_label,
        repaired_reason_ceased as reason_episode_ceased,
        {{ code_label('reason_episode_ceased', 'chained.repaired_reason_ceased') }}
            as reason_episode_ceased_label,
        reason_place_change as reason_for_placement_change,
        {{ code_label('reason_place_change', 'chained.reason_place_change') }}
            as reason_for_placement_change_label,
        end_date_repair,
        duplicates_removed,
        cast(row_number() over (
            partition by person_key, period_of_care_number order by episode_start_date
        ) as integer) as episode_number_in_period,
        person_key || '/' || cast(period_of_care_number as string) as period_of_care_id
    from chained
)

select * from final
