{#-
    One row per child (person_key), School Census and reported term: sessions possible,
    attended and missed, absence rates and the persistent and severe absence flags, by DfE's
    definitions (Pupil absence statistics: methodology, explore-education-statistics).

    Possible sessions are the ones each school reported for the pupil (termlysessionspossible,
    summerhalfterm2sessionspossible): schools leave out sessions that are not possible
    (not_counted codes: X, Y, Y1-Y7, Q, D, Z, #), so those are shown but never added to
    possible sessions or to absence. Sessions by reason are summed by each code's category in
    reference.code_lists (linkage_ops/schemas/codelists/attendance_reason.yaml): no code is
    listed here.

    A child on the roll of two schools in a term (a move, or dual registration) has one row:
    the sessions of all their enrolments in the term are added up and the rates and flags are
    the child's over all of them. DfE's statistics count enrolments instead (a pupil who moved
    school counts twice); a dual-registered pupil's sessions at the other school are coded D
    (not counted), so adding enrolments never counts a session twice.
-#}
with

attendance as (
    select * from {{ ref('stg_school_census__attendance') }}
),

pupils as (
    select * from {{ ref('stg_school_census__pupils') }}
),

leavers as (
    select * from {{ ref('stg_school_census__leavers') }}
),

attendance_reasons as (
    select
        code,
        category
    from {{ ref('code_lists') }}
    where codelist = 'attendance_reason'
),

person_keys as (
    select * from {{ ref('int_person_keys') }}
),

-- Every enrolment the census reports: pupils on roll on census day and pupils who left.
enrolments as (
    select
        person_record_id,
        census_period,
        true as is_on_roll,
        termly_sessions_possible,
        summer_half_term_2_sessions_possible
    from pupils
    union all
    select
        person_record_id,
        census_period,
        false as is_on_roll,
        termly_sessions_possible,
        summer_half_term_2_sessions_possible
    from leavers
),

possible_sessions as (
    select
        person_record_id,
        census_period,
        is_on_roll,
        'termly' as reported_term,
        termly_sessions_possible as sessions_possible
    from enrolments
    union all
    select
        person_record_id,
        census_period,
        is_on_roll,
        'summer_half_term_2' as reported_term,
        summer_half_term_2_sessions_possible as sessions_possible
    from enrolments
),

sessions_by_category as (
    select
        attendance.person_record_id,
        attendance.census_period,
        attendance.is_on_roll,
        attendance.reported_term,
        sum(attendance.sessions) filter (
            where attendance_reasons.category = 'approved_educational_activity'
        ) as sessions_approved_educational_activity,
        sum(attendance.sessions) filter (
            where attendance_reasons.category = 'authorised_absence'
        ) as sessions_authorised_absence,
        sum(attendance.sessions) filter (
            where attendance_reasons.category = 'unauthorised_absence'
        ) as sessions_unauthorised_absence,
        sum(attendance.sessions) filter (
            where attendance_reasons.category = 'not_counted'
        ) as sessions_not_counted
    from attendance
    left join attendance_reasons on attendance.attendance_reason = attendance_reasons.code
    group by all
),

-- An enrolment's term: its possible sessions and its sessions by category. A term the pupil
-- was not on roll for has no possible sessions and no reasons, and no row.
enrolment_terms as (
    select
        possible_sessions.sessions_possible,
        sessions_by_category.sessions_approved_educational_activity,
        sessions_by_category.sessions_authorised_absence,
        sessions_by_category.sessions_unauthorised_absence,
        sessions_by_category.sessions_not_counted,
        coalesce(possible_sessions.person_record_id, sessions_by_category.person_record_id)
            as person_record_id,
        coalesce(possible_sessions.census_period, sessions_by_category.census_period)
            as census_period,
        coalesce(possible_sessions.is_on_roll, sessions_by_category.is_on_roll) as is_on_roll,
        coalesce(possible_sessions.reported_term, sessions_by_category.reported_term)
            as reported_term
    from possible_sessions
    full outer join sessions_by_category
        on
            possible_sessions.person_record_id = sessions_by_category.person_record_id
            and possible_sessions.reported_term = sessions_by_category.reported_term
    where
        possible_sessions.sessions_possible is not null
        or sessions_by_category.person_record_id is not null
),

by_child as (
    select
        person_keys.person_key,
        enrolment_terms.census_period,
        enrolment_terms.reported_term,
        bool_or(enrolment_terms.is_on_roll) as is_on_roll,
        count(*) as enrolments,
        sum(enrolment_terms.sessions_possible) as sessions_possible,
        coalesce(sum(enrolment_terms.sessions_approved_educational_activity), 0)
            as sessions_approved_educational_activity,
        coalesce(sum(enrolment_terms.sessions_authorised_absence), 0)
            as sessions_authorised_absence,
        coalesce(sum(enrolment_terms.sessions_unauthorised_absence), 0)
            as sessions_unauthorised_absence,
        coalesce(sum(enrolment_terms.sessions_not_counted), 0) as sessions_not_counted
    from enrolment_terms
    inner join person_keys on enrolment_terms.person_record_id = person_keys.person_record_id
    group by all
),

measured as (
    -- The term a census reports is the one before it (autumn reports the summer term in two
    -- halves), in the academic year that began in the August before the census year:
    -- 2024-autumn reports summer 2024 (2023-24), 2025-spring autumn 2024 (2024-25),
    -- 2025-summer spring 2025 (2024-25).
    select
        *,
        cast(left(census_period, 4) as integer) as census_year,
        sessions_authorised_absence + sessions_unauthorised_absence as sessions_overall_absence,
        case split_part(census_period, '-', 2)
            when 'spring' then 'autumn'
            when 'summer' then 'spring'
            else
                case reported_term
                    when 'termly' then 'summer_first_half'
                    else 'summer_second_half'
                end
        end as term
    from by_child
),

final as (
    select
        person_key,
        census_period,
        reported_term,
        cast(census_year - 1 as string) || '-' || right(cast(census_year as string), 2)
            as academic_year,
        term,
        is_on_roll,
        cast(enrolments as integer) as enrolments,
        cast(sessions_possible as integer) as sessions_possible,
        cast(
            sessions_possible - sessions_overall_absence - sessions_approved_educational_activity
            as integer
        ) as sessions_present,
        cast(sessions_approved_educational_activity as integer)
            as sessions_approved_educational_activity,
        cast(sessions_authorised_absence as integer) as sessions_authorised_absence,
        cast(sessions_unauthorised_absence as integer) as sessions_unauthorised_absence,
        cast(sessions_overall_absence as integer) as sessions_overall_absence,
        cast(sessions_not_counted as integer) as sessions_not_counted,
        {{ absence_rate('sessions_overall_absence', 'sessions_possible') }} as overall_absence_rate,
        {{ absence_rate('sessions_authorised_absence', 'sessions_possible') }}
            as authorised_absence_rate,
        {{ absence_rate('sessions_unauthorised_absence', 'sessions_possible') }}
            as unauthorised_absence_rate,
        {{ is_persistently_absent('sessions_overall_absence', 'sessions_possible') }}
            as is_persistently_absent,
        {{ is_severely_absent('sessions_overall_absence', 'sessions_possible') }}
            as is_severely_absent
    from measured
)

select * from final
