{#-
    Person keys changed by each linkage run: keys retired into another (merge) and keys whose
    records moved to a new key (split), with the records moved. The latest run comes first;
    a report of "changes since the last run" reads the rows of the latest run.
-#}
with

key_history as (
    select * from {{ source('linkage', 'key_history') }}
),

final as (
    select
        run_id,
        reason,
        cast(count(*) as bigint) as key_changes,
        cast(sum(records_moved) as bigint) as records_moved
    from key_history
    group by run_id, reason
)

select * from final
