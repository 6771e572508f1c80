with

source as (
    select * from {{ source('school_census', 'pupilnolongeronroll') }}
),

addresses_off_roll as (
    select * from {{ source('school_census', 'addressesoffroll') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

-- Autumn sends each leaver's last known address (UPRN and postcode); take the first if a
-- school sends more. Spring and summer send none.
leaver_address as (
    {{ deduplicate('addresses_off_roll', '_period, pupilnolongeronrolltableid',
        'addressesoffrolltableid nulls last') }}
),

renamed as (
    select
        source._period as census_period,
        cast(source._period_end as date) as period_end,
        {{ clean_text('source.ethnicity') }} as ethnicity_code,
        {{ clean_text('source.language') }} as language_code,
        source.ncyearleaving as national_curriculum_year_leaving,
        source._source_file as source_file,
        source._row_number as source_row_number,
        source.pupilnolongeronrolltableid as leaver_id,
        source.schoolcensustableid as school_census_id,
        -- Not a pupil on roll's id: the same id can belong to a pupil in pupilonroll.
        source._period || '/leaver-' || source.pupilnolongeronrolltableid as leaver_record_id,
        {{ person_record_id(
            'school_census', "source._period || '/leaver-' || source.pupilnolongeronrolltableid"
        ) }} as person_record_id,
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
        {{ normalise_postcode('leaver_address.postcode') }} as postcode,
        {{ clean_text('leaver_address.uniquepropertyreferencenumber') }} as uprn,
        {{ parse_blade_date('source.entrydate') }} as entry_date,
        {{ parse_blade_date('source.leavingdate') }} as leaving_date,
        {{ parse_boolean('source.parttime') }} as is_part_time,
        cast(source.termlysessionspossible as integer) as termly_sessions_possible,
        cast(source.termlysessionsauthorised as integer) as termly_sessions_authorised,
        cast(source.termlysessionsunauthorised as integer) as termly_sessions_unauthorised,
        cast(source.summerhalfterm2sessionspossible as integer)
            as summer_half_term_2_sessions_possible,
        cast(source.summerhalfterm2sessionsauthorised as integer)
            as summer_half_term_2_sessions_authorised,
        cast(source.summerhalfterm2sessionsunauthorised as integer)
            as summer_half_term_2_sessions_unauthorised
    from source
    left join sex_codes on source.sex = sex_codes.code
    left join leaver_address
        on
            source._period = leaver_address._period
            and source.pupilnolongeronrolltableid = leaver_address.pupilnolongeronrolltableid
)

select * from renamed
