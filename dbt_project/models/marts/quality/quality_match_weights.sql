{#-
    The distribution of match weights over the pairs the latest linkage run kept, in bins of
    one bit, by what happened to the pair. Pairs of records, not children: no characteristic
    of a child is counted here, so no disclosure control is needed.
-#}
with

match_pairs as (
    select * from {{ source('linkage', 'match_pairs') }}
),

final as (
    select
        cast(floor(match_weight) as integer) as weight_from,
        cast(decision as string) as decision,
        cast(count(*) as bigint) as pairs,
        cast(any_value(run_id) as string) as run_id
    from match_pairs
    group by floor(match_weight), decision
)

select * from final
