with

source as (
    select * from {{ source('sen2', 'namedplan') }}
),

assessments as (
    select * from {{ source('sen2', 'assessment') }}
),

requests as (
    select * from {{ source('sen2', 'requests') }}
),

renamed as (
    select
        source._period || '/' || source.namedplantableid as named_plan_record_id,
        source._period as census_period,
        source.namedplantableid as named_plan_id,
        source.assessmenttableid as assessment_id,
        {{ person_record_id('sen2', "source._period || '/' || requests.persontableid") }}
            as person_record_id,
        source.ceasereason as cease_reason,
        {{ parse_blade_date('source.startdate') }} as plan_start_date,
        {{ parse_blade_date('source.ceasedate') }} as plan_cease_date,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join assessments
        on
            source._period = assessments._period
            and source.assessmenttableid = assessments.assessmenttableid
    left join requests
        on
            assessments._period = requests._period
            and assessments.requeststableid = requests.requeststableid
)

select * from renamed
