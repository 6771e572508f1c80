with

source as (
    select * from {{ source('school_census', 'pupilnolongeronroll') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        source._period as census_period,
        source.ethnicity as ethnicity_code,
        source.language as language_code,
        source.enrolstatus as enrolment_status,
        source.senprovision as sen_provision,
        source.ncyearactual as national_curriculum_year,
        source.ncyearleaving as national_curriculum_year_leaving,
        source.plaa as previously_looked_after_code,
        source._source_file as source_file,
        source._row_number as source_row_number,
        cast(source.pupilnolongeronrolltableid as integer) as leaver_id,
        cast(source.schoolcensustableid as integer) as school_census_id,
        -- Not a pupil on roll's id: the same number can belong to a pupil in pupilonroll.
        source._period || '/leaver-' || source.pupilnolongeronrolltableid as leaver_record_id,
        upper({{ clean_text('source.upn') }}) as upn,
        upper({{ clean_text('source.formerupn') }}) as former_upn,
        {{ clean_text('source.uniquelearnernumber') }} as unique_learner_number,
        {{ clean_text('source.forename') }} as forename,
        {{ clean_text('source.middlenames') }} as middle_names,
        {{ clean_text('source.surname') }} as surname,
        {{ clean_text('source.preferredsurname') }} as preferred_surname,
        {{ clean_text('source.formersurname') }} as former_surname,
        {{ parse_blade_date('source.dob') }} as date_of_birth,
        coalesce(sex_codes.sex, 'U') as sex,
        {{ parse_blade_date('source.entrydate') }} as entry_date,
        {{ parse_blade_date('source.leavingdate') }} as leaving_date,
        {{ parse_boolean('source.parttime') }} as is_part_time,
        {{ parse_boolean('source.youngcarer') }} as is_young_carer,
        {{ parse_boolean('source.servicechild') }} as is_service_child
    from source
    left join sex_codes on source.sex = sex_codes.code
)

select * from renamed
