{#-
    The 17 early learning goals of the 2021 framework by area, as the return codes them. A good
    level of development (DfE) is the expected level in every goal of the prime areas
    (communication and language, personal, social and emotional development, physical
    development) and of literacy and mathematics.
-#}
{%- set early_learning_goals = [
    ('com_e01', 'listening_attention_understanding'), ('com_e02', 'speaking'),
    ('pse_e03', 'self_regulation'), ('pse_e04', 'managing_self'),
    ('pse_e05', 'building_relationships'),
    ('phy_e06', 'gross_motor_skills'), ('phy_e07', 'fine_motor_skills'),
    ('lit_e08', 'comprehension'), ('lit_e09', 'word_reading'), ('lit_e10', 'writing'),
    ('mat_e11', 'number'), ('mat_e12', 'numerical_patterns'),
    ('utw_e13', 'past_and_present'), ('utw_e14', 'people_culture_communities'),
    ('utw_e15', 'natural_world'),
    ('exp_e16', 'creating_with_materials'), ('exp_e17', 'being_imaginative_expressive'),
] -%}
{%- set good_level_areas = ['com', 'pse', 'phy', 'lit', 'mat'] -%}
{%- set good_level_goals = [] -%}
{%- for column, goal in early_learning_goals if column[:3] in good_level_areas -%}
    {%- do good_level_goals.append(goal) -%}
{%- endfor -%}
with

source as (
    select * from {{ source('eyfsp', 'profiles') }}
),

sex_codes as (
    select * from {{ ref('conformed_sex_codes') }}
    where code_system = 'dfe'
),

renamed as (
    select
        {{ attainment_pupil_columns('eyfsp', 'eyfsp_profile_id') }},
        {{ normalise_postcode('source.postcode') }} as postcode,
        {{ school_laestab() }} as school_laestab,
        {{ clean_text('source.urn') }} as school_urn,
        -- noqa: disable=LT02
        -- Each goal as the code list eyfsp_outcome says: 1 emerging, 2 expected, A not assessed.
        {%- for column, goal in early_learning_goals %}
        case trim(source.{{ column }})
            when '1' then 'emerging' when '2' then 'expected' when 'A' then 'not assessed'
        end as {{ goal }},
        {%- endfor %}
        -- noqa: enable=LT02
        source._source_file as source_file,
        source._row_number as source_row_number
    from source
    left join sex_codes on upper(trim(source.sex)) = sex_codes.code
),

measured as (
    select
        *,
        -- noqa: disable=LT02
        (
            {%- for column, goal in early_learning_goals %}
            cast({{ goal }} = 'expected' as integer){{ " +" if not loop.last }}
            {%- endfor %}
        ) as expected_goal_count,
        -- A child not assessed (an exemption: every goal A) has no level of development.
        case
            when {% for column, goal in early_learning_goals -%}
                {{ goal }} = 'not assessed'{{ " and " if not loop.last }}
            {%- endfor %} then null
            else {% for goal in good_level_goals -%}
                {{ goal }} = 'expected'{{ " and " if not loop.last }}
            {%- endfor %}
        end as good_level_of_development
        -- noqa: enable=LT02
    from renamed
)

select * from measured
