{#-
    RESTRICTED. The children who have died (deaths feed), for mail-merge suppression: one row
    per child with every name, date of birth and postcode the linked records hold, so that a
    letter addressed from any service's own records can be matched and held back.
-#}
with

golden_record as (
    select * from {{ ref('child_golden_record') }}
    where is_deceased
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

person_records as (
    select * from {{ ref('int_person_records_unioned') }}
),

records_of_the_dead as (
    select
        person_keys.person_key,
        person_records.source,
        nullif(trim(concat_ws(' ', person_records.first_name, person_records.last_name)), '')
            as full_name,
        case
            when {{ is_valid_postcode('person_records.postcode') }}
                then person_records.postcode
        end as valid_postcode
    from person_records
    inner join person_keys on person_records.record_id = person_keys.person_record_id
    inner join golden_record on person_keys.person_key = golden_record.person_key
),

held as (
    -- What the child's records hold, in every form the services wrote it.
    select
        person_key,
        {{ string_agg_distinct('full_name', '; ') }} as names_held,
        {{ string_agg_distinct('valid_postcode', '; ') }} as postcodes_held,
        {{ string_agg_distinct('source', ', ') }} as sources
    from records_of_the_dead
    group by person_key
),

final as (
    select
        golden_record.person_key,
        golden_record.died_on,
        golden_record.first_name,
        golden_record.middle_names,
        golden_record.last_name,
        golden_record.date_of_birth,
        golden_record.nhs_number,
        golden_record.upn,
        golden_record.postcode,
        held.names_held,
        held.postcodes_held,
        held.sources
    from golden_record
    left join held on golden_record.person_key = held.person_key
)

select * from final
