with

source as (
    select * from {{ source('ks4', 'results') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        -- (Candidate numbers repeat between schools: they are no record id.)
        {{ attainment_pupil_columns('ks4', 'ks4_result_id') }},
        {{ clean_text('source.uln') }} as unique_learner_number,
        {{ clean_text('source.candidatenumber') }} as candidate_number,
        {{ school_laestab() }} as school_laestab,
        {{ clean_text('source.urn') }} as school_urn,
        cast(source.attainment8 as decimal(4, 2)) as attainment_8,
        -- Progress 8 and the EBacc APS are flagged at load, not refused: read leniently.
        try_cast(source.progress8 as decimal(5, 2)) as progress_8,
        case
            when upper(trim(source.ebaccentered)) in ('1', 'Y') then true
            when upper(trim(source.ebaccentered)) in ('0', 'N') then false
        end as ebacc_entered,
        try_cast(source.ebaccaps as decimal(4, 2)) as ebacc_aps,
        -- 9-1, U (ungraded), X (no result), Q (pending); blank when not entered.
        upper(trim(source.englishlanguagegrade)) as english_language_grade,
        upper(trim(source.englishliteraturegrade)) as english_literature_grade,
        upper(trim(source.mathsgrade)) as maths_grade,
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on upper(trim(source.gender)) = sex_codes.code
),

points as (
    select
        *,
        -- Grade 9-1 is 9-1 points, U none; X, Q or no entry is no grade at all.
        case
            when {{ matches_pattern('english_language_grade', '[1-9]') }}
                then cast(english_language_grade as integer)
            when english_language_grade = 'U' then 0
        end as english_language_points,
        case
            when {{ matches_pattern('english_literature_grade', '[1-9]') }}
                then cast(english_literature_grade as integer)
            when english_literature_grade = 'U' then 0
        end as english_literature_points,
        case
            when {{ matches_pattern('maths_grade', '[1-9]') }} then cast(maths_grade as integer)
            when maths_grade = 'U' then 0
        end as maths_points
    from renamed
),

measured as (
    select
        *,
        -- English counts at the better of English language and literature.
        greatest(english_language_points, english_literature_points) as english_best_points,
        coalesce(
            greatest(english_language_points, english_literature_points) >= 4
            and maths_points >= 4,
            false
        ) as english_maths_grade_4_or_above,
        coalesce(
            greatest(english_language_points, english_literature_points) >= 5
            and maths_points >= 5,
            false
        ) as english_maths_grade_5_or_above
    from points
)

select * from measured
