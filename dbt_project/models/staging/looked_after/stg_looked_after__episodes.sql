with

source as (
    select * from {{ source('looked_after', 'episodes') }}
),

renamed as (
    -- Episodes may be duplicated, overlap or be left open: repaired downstream, not here.
    select
        source._period || '/' || source._row_number as episode_record_id,
        source._period as collection_year,
        -- The child's person record is its Header row: <collection year>/<CHILD>.
        {{ person_record_id('looked_after', "source._period || '/' || source.child") }}
            as person_record_id,
        {{ clean_text('source.child') }} as la_child_id,
        source.rne as reason_new_episode,
        source.ls as legal_status,
        source.cin as category_of_need,
        source.place as placement_type,
        source.place_provider as placement_provider,
        source.rec as reason_episode_ceased,
        source.reason_place_change,
        source.urn as placement_urn,
        {{ parse_date('source.decom', '%d/%m/%Y') }} as episode_start_date,
        {{ parse_date('source.dec', '%d/%m/%Y') }} as episode_end_date,
        {{ normalise_postcode('source.home_post') }} as home_postcode,
        {{ normalise_postcode('source.pl_post') }} as placement_postcode,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
