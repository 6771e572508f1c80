{#-
    The person key of every linked record: the only model that reads the linkage bridge. Marts
    join to it on `person_record_id`, which every staging model exposes (macro
    person_record_id), instead of each reading the bridge and rebuilding record ids.
-#}
with

bridge as (
    select * from {{ source('linkage', 'person_key_bridge') }}
)

select
    record_id as person_record_id,
    person_key,
    source,
    source_record_id,
    match_method,
    match_probability
from bridge
