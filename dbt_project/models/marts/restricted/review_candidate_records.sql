{#-
    Every record of the children a pair in the review queue would join or split, so that a
    reviewer sees the rest of each candidate child before deciding (webapp/, the review page).
-#}
with

review_queue as (
    select * from {{ source('linkage', 'review_queue') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

queued_records as (
    select record_id_l as record_id from review_queue
    union
    select record_id_r as record_id from review_queue
),

candidate_children as (
    select distinct person_keys.person_key
    from queued_records
    inner join person_keys on queued_records.record_id = person_keys.person_record_id
),

final as (
    select
        person_keys.person_key,
        person_records.record_id,
        person_records.source,
        person_records.period,
        person_records.first_name,
        person_records.middle_names,
        person_records.last_name,
        person_records.former_last_name,
        person_records.date_of_birth,
        person_records.sex,
        person_records.postcode,
        person_records.nhs_number,
        person_records.upn,
        person_records.la_child_id,
        person_keys.match_method
    from candidate_children
    inner join person_keys on candidate_children.person_key = person_keys.person_key
    inner join person_records on person_keys.person_record_id = person_records.record_id
)

select * from final
