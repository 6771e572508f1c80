with

source as (
    select * from {{ source('looked_after', 'oc2') }}
),

renamed as (
    -- Codes 1/0 become booleans; a blank stays null (not recorded).
    select
        source._period || '/' || source.child as child_record_id,
        {{ person_record_id('looked_after', "source._period || '/' || source.child") }}
            as person_record_id,
        source._period as collection_year,
        {{ clean_text('source.child') }} as la_child_id,
        {{ parse_date('source.dob', '%d/%m/%Y') }} as date_of_birth,
        cast(source.sdq_score as integer) as sdq_score,
        source.sdq_reason as sdq_reason_code,
        source.convicted = '1' as was_convicted,
        source.health_check = '1' as had_health_check,
        source.immunisations = '1' as are_immunisations_up_to_date,
        source.teeth_check = '1' as had_teeth_check,
        source.health_assessment = '1' as had_health_assessment,
        source.substance_misuse = '1' as has_substance_misuse_problem,
        source.intervention_received = '1' as received_substance_misuse_intervention,
        source.intervention_offered = '1' as was_offered_substance_misuse_intervention,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
)

select * from renamed
