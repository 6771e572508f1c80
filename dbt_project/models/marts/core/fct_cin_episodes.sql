{#- One row per child in need episode (CIN census CINdetails: referral to closure). -#}
with

cin_details as (
    select * from {{ ref('stg_children_in_need__cin_details') }}
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

as_at as (
    select * from {{ ref('as_at_date') }}
),

linked as (
    select
        cin_details.*,
        person_keys.person_key
    from cin_details
    inner join person_keys on cin_details.person_record_id = person_keys.person_record_id
),

-- An episode open across 31 March is in both years' returns: keep the latest return's.
deduplicated as (
    {{ deduplicate('linked',
        'person_key, coalesce(cast(referral_date as string), cin_details_record_id)',
        'collection_year desc, cin_details_record_id desc') }}
),

final as (
    select
        deduplicated.cin_details_record_id as cin_episode_id,
        deduplicated.person_key,
        deduplicated.collection_year,
        deduplicated.referral_date,
        deduplicated.referral_source,
        {{ code_label('cin_referral_source', 'deduplicated.referral_source') }}
            as referral_source_label,
        deduplicated.primary_need_code,
        {{ code_label('cin_need', 'deduplicated.primary_need_code') }} as primary_need_code_label,
        deduplicated.closure_date,
        deduplicated.reason_for_closure,
        {{ code_label('cin_closure_reason', 'deduplicated.reason_for_closure') }}
            as reason_for_closure_label,
        deduplicated.initial_cpc_date,
        coalesce(deduplicated.is_referral_nfa, false) as is_referral_nfa,
        coalesce(
            deduplicated.referral_date <= as_at.as_at_date
            and (
                deduplicated.closure_date is null
                or deduplicated.closure_date > as_at.as_at_date
            ),
            false
        ) as is_open
    from deduplicated
    cross join as_at
)

select * from final
