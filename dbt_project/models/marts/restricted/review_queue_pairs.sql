{#-
    The linkage review queue for the review web app (webapp/): one row per pair of records
    waiting for a reviewer, most consequential first, both records side by side with each
    field's comparison level and weight (the prior weight plus the field weights make the
    match weight), and the child each record belongs to now. Decisions are not made here: the
    app stores them and the next linkage run reads them.
-#}
with

review_queue as (
    select * from {{ source('linkage', 'review_queue') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

final as (
    select
        review_queue.record_id_l,
        review_queue.record_id_r,
        keys_l.person_key as person_key_l,
        keys_r.person_key as person_key_r,
        cast(review_queue.priority as integer) as queue_position,
        cast(review_queue.decision as string) as waiting_because,
        cast(review_queue.impact as string) as impact,
        cast(review_queue.records_affected as integer) as records_affected,
        cast(review_queue.match_weight as double) as match_weight,
        cast(review_queue.match_probability as double) as match_probability,
        cast(review_queue.prior_weight as double) as prior_weight,
        cast(review_queue.source_l as string) as source_l,
        cast(review_queue.first_name_l as string) as first_name_l,
        cast(review_queue.middle_names_l as string) as middle_names_l,
        cast(review_queue.last_name_l as string) as last_name_l,
        cast(review_queue.date_of_birth_l as date) as date_of_birth_l,
        cast(review_queue.sex_l as string) as sex_l,
        cast(review_queue.postcode_l as string) as postcode_l,
        cast(review_queue.nhs_number_l as string) as nhs_number_l,
        cast(review_queue.upn_l as string) as upn_l,
        cast(review_queue.la_child_id_l as string) as la_child_id_l,
        cast(review_queue.source_r as string) as source_r,
        cast(review_queue.first_name_r as string) as first_name_r,
        cast(review_queue.middle_names_r as string) as middle_names_r,
        cast(review_queue.last_name_r as string) as last_name_r,
        cast(review_queue.date_of_birth_r as date) as date_of_birth_r,
        cast(review_queue.sex_r as string) as sex_r,
        cast(review_queue.postcode_r as string) as postcode_r,
        cast(review_queue.nhs_number_r as string) as nhs_number_r,
        cast(review_queue.upn_r as string) as upn_r,
        cast(review_queue.la_child_id_r as string) as la_child_id_r,
        cast(review_queue.first_name_level as string) as first_name_level,
        cast(review_queue.first_name_weight as double) as first_name_weight,
        cast(review_queue.last_name_level as string) as last_name_level,
        cast(review_queue.last_name_weight as double) as last_name_weight,
        cast(review_queue.middle_names_level as string) as middle_names_level,
        cast(review_queue.middle_names_weight as double) as middle_names_weight,
        cast(review_queue.date_of_birth_level as string) as date_of_birth_level,
        cast(review_queue.date_of_birth_weight as double) as date_of_birth_weight,
        cast(review_queue.postcode_level as string) as postcode_level,
        cast(review_queue.postcode_weight as double) as postcode_weight,
        cast(review_queue.sex_level as string) as sex_level,
        cast(review_queue.sex_weight as double) as sex_weight,
        cast(review_queue.run_id as string) as run_id
    from review_queue
    left join person_keys as keys_l on review_queue.record_id_l = keys_l.person_record_id
    left join person_keys as keys_r on review_queue.record_id_r = keys_r.person_record_id
)

select * from final
