{#-
    Link rates by the child's sex, ethnicity, age band and postcode district: the share of
    records linked to another record of the same child. A group whose records link less often
    is a group the linked data under-counts (linkage bias). Disclosure controlled.
-#}
with

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

children as (
    select * from {{ ref('dim_child') }}
),

records as (
    select
        children.sex,
        person_keys.match_method != 'singleton' as is_linked,
        coalesce(children.ethnicity, 'not known') as ethnicity,
        coalesce(children.age_band, 'not known') as age_band,
        coalesce(children.postcode_district, 'not known') as postcode_district
    from person_keys
    inner join children on person_keys.person_key = children.person_key
),

by_characteristic as (
    select * from records
    unpivot (breakdown_value for breakdown in (sex, ethnicity, age_band, postcode_district))
),

value_cells as (
    -- Each breakdown value's records: all of them (its table's total), linked and unlinked.
    select
        breakdown,
        breakdown_value,
        'all records' as status,
        true as is_total,
        count(*) as records
    from by_characteristic
    group by breakdown, breakdown_value
    union all
    select
        breakdown,
        breakdown_value,
        case when is_linked then 'linked' else 'unlinked' end as status,
        false as is_total,
        count(*) as records
    from by_characteristic
    group by breakdown, breakdown_value, is_linked
),

cells as (
    -- Two kinds of table share these counts: each value's (linked + unlinked = all), and,
    -- for each breakdown and status, the values' counts adding up to every record of that
    -- status (the same total in every breakdown). Disclosure control works across both, so a
    -- value withheld in one breakdown cannot be worked out from another.
    select
        'value' as table_kind,
        breakdown,
        breakdown_value as table_key,
        status as cell,
        breakdown || '/' || breakdown_value || '/' || status as cell_id,
        is_total,
        records,
        breakdown_value,
        status
    from value_cells
    union all
    select
        'breakdown' as table_kind,
        breakdown,
        status as table_key,
        breakdown_value as cell,
        breakdown || '/' || breakdown_value || '/' || status as cell_id,
        false as is_total,
        records,
        breakdown_value,
        status
    from value_cells
    union all
    select
        'breakdown' as table_kind,
        breakdown,
        status as table_key,
        '~all' as cell,
        'every record/' || status as cell_id,
        true as is_total,
        sum(records) as records,
        null as breakdown_value,
        status
    from value_cells
    group by breakdown, status
),

all_controlled as (
    {{ disclosure_control('cells', ['table_kind', 'breakdown', 'table_key'], 'records', 'cell',
        cell_by=['cell_id']) }}
),

controlled as (
    select * from all_controlled
    where table_kind = 'value'
),

rates as (
    select
        breakdown,
        breakdown_value,
        cast(max(records) filter (where is_total) as bigint) as records,
        -- No cell at all means no linked record (0); a withheld cell stays null.
        cast(
            case
                when bool_or(status = 'linked') then max(records) filter (where status = 'linked')
                else 0
            end as bigint
        ) as linked_records,
        round(
            100 * cast(linked_records as double) / max(records) filter (where is_total), 1
        ) as percent_linked,
        bool_or(is_suppressed) as is_suppressed
    from controlled
    group by breakdown, breakdown_value
),

final as (
    select
        rates.breakdown,
        rates.breakdown_value,
        {{ breakdown_value_label('rates.breakdown', 'rates.breakdown_value',
            {'sex': 'dfe_sex', 'ethnicity': 'ethnicity'}) }} as breakdown_value_label,
        rates.records,
        rates.linked_records,
        rates.percent_linked,
        rates.is_suppressed
    from rates
)

select * from final
