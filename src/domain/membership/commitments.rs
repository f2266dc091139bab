//! The minimum commitments for cluster participation and the onboarding checklist, in the
//! four interface languages (en, fr, es, ar), and the wording of the focal point's form.
//! The list is fixed: the grid, the API and the form all use these ids.

/// One commitment: a stable id, a short title and the statement an organization rates
/// itself against, each in en, fr, es, ar.
pub struct Commitment {
    pub id: &'static str,
    pub title: [&'static str; 4],
    pub statement: [&'static str; 4],
}

fn index(lang: &str) -> usize {
    match lang {
        "fr" => 1,
        "es" => 2,
        "ar" => 3,
        _ => 0,
    }
}

impl Commitment {
    pub fn title(&self, lang: &str) -> &'static str {
        self.title[index(lang)]
    }
    pub fn statement(&self, lang: &str) -> &'static str {
        self.statement[index(lang)]
    }
}

pub const COMMITMENTS: [Commitment; 12] = [
    Commitment {
        id: "principles",
        title: [
            "Principles",
            "Principes",
            "Principios",
            "المبادئ",
        ],
        statement: [
            "We work by the humanitarian principles (humanity, impartiality, neutrality, independence) and the Principles of Partnership (equality, transparency, a results-oriented approach, responsibility, complementarity).",
            "Nous agissons selon les principes humanitaires (humanité, impartialité, neutralité, indépendance) et les Principes de partenariat (égalité, transparence, approche axée sur les résultats, responsabilité, complémentarité).",
            "Trabajamos según los principios humanitarios (humanidad, imparcialidad, neutralidad, independencia) y los Principios de Asociación (igualdad, transparencia, enfoque en resultados, responsabilidad, complementariedad).",
            "نعمل وفق المبادئ الإنسانية (الإنسانية، وعدم التحيز، والحياد، والاستقلال) ومبادئ الشراكة (المساواة، والشفافية، والتوجه نحو النتائج، والمسؤولية، والتكامل).",
        ],
    },
    Commitment {
        id: "protection",
        title: [
            "Protection mainstreaming",
            "Intégration de la protection",
            "Transversalización de la protección",
            "تعميم الحماية",
        ],
        statement: [
            "Our programmes put safety, dignity and meaningful access first, avoid causing harm, and refer protection concerns to those who can act on them.",
            "Nos programmes placent d'abord la sécurité, la dignité et un accès réel, évitent de nuire et orientent les problèmes de protection vers ceux qui peuvent agir.",
            "Nuestros programas anteponen la seguridad, la dignidad y un acceso efectivo, evitan causar daño y derivan los problemas de protección a quien puede actuar.",
            "تضع برامجنا السلامة والكرامة والوصول الفعلي في المقام الأول، وتتجنب إلحاق الضرر، وتحيل مخاوف الحماية إلى من يستطيع التصرف بشأنها.",
        ],
    },
    Commitment {
        id: "aap",
        title: [
            "Accountability to affected people",
            "Redevabilité envers les populations affectées",
            "Rendición de cuentas a las personas afectadas",
            "المساءلة أمام المتضررين",
        ],
        statement: [
            "We are ready to consult affected people, to receive and answer their feedback and complaints, and to change what we do because of them.",
            "Nous sommes prêts à consulter les personnes affectées, à recevoir leurs retours et plaintes, à y répondre et à changer nos actions en conséquence.",
            "Estamos dispuestos a consultar a las personas afectadas, recibir y responder sus opiniones y quejas, y cambiar lo que hacemos a raíz de ellas.",
            "نحن مستعدون لاستشارة المتضررين، وتلقي ملاحظاتهم وشكاواهم والرد عليها، وتغيير ما نقوم به بناءً عليها.",
        ],
    },
    Commitment {
        id: "duties",
        title: [
            "Cluster duties",
            "Rôle du cluster",
            "Funciones del clúster",
            "مهام المجموعة",
        ],
        statement: [
            "Our staff understand what the cluster is for, what its coordinators and partners are each responsible for, and what the cluster lead agency answers for.",
            "Notre personnel comprend à quoi sert le cluster, ce dont ses coordinateurs et partenaires sont chacun responsables et ce dont l'agence chef de file répond.",
            "Nuestro personal entiende para qué sirve el clúster, de qué es responsable cada coordinador y socio, y de qué responde la agencia líder.",
            "يفهم موظفونا الغرض من المجموعة، ومسؤوليات كل من منسقيها وشركائها، وما تُسأل عنه الوكالة الرائدة للمجموعة.",
        ],
    },
    Commitment {
        id: "participation",
        title: [
            "Active participation",
            "Participation active",
            "Participación activa",
            "المشاركة الفعالة",
        ],
        statement: [
            "We attend cluster meetings regularly, share information on our activities and gaps, and take part in joint assessments and decisions.",
            "Nous assistons régulièrement aux réunions du cluster, partageons les informations sur nos activités et lacunes, et prenons part aux évaluations et décisions communes.",
            "Asistimos con regularidad a las reuniones del clúster, compartimos información sobre nuestras actividades y brechas y participamos en evaluaciones y decisiones conjuntas.",
            "نحضر اجتماعات المجموعة بانتظام، ونتبادل المعلومات عن أنشطتنا والفجوات، ونشارك في التقييمات والقرارات المشتركة.",
        ],
    },
    Commitment {
        id: "response_plan",
        title: [
            "Response plan",
            "Plan de réponse",
            "Plan de respuesta",
            "خطة الاستجابة",
        ],
        statement: [
            "We contribute to the cluster's part of the response plan, align our activities with its priorities, and report against its indicators.",
            "Nous contribuons à la part du cluster dans le plan de réponse, alignons nos activités sur ses priorités et rendons compte selon ses indicateurs.",
            "Contribuimos a la parte del clúster del plan de respuesta, alineamos nuestras actividades con sus prioridades e informamos según sus indicadores.",
            "نساهم في الجزء الخاص بالمجموعة من خطة الاستجابة، ونوائم أنشطتنا مع أولوياتها، ونرفع التقارير وفق مؤشراتها.",
        ],
    },
    Commitment {
        id: "cross_cutting",
        title: [
            "Cross-cutting issues",
            "Questions transversales",
            "Temas transversales",
            "القضايا المشتركة",
        ],
        statement: [
            "We take age, gender, diversity, disability, the environment and HIV into account in what we plan and do.",
            "Nous tenons compte de l'âge, du genre, de la diversité, du handicap, de l'environnement et du VIH dans ce que nous planifions et faisons.",
            "Tenemos en cuenta la edad, el género, la diversidad, la discapacidad, el medio ambiente y el VIH en lo que planificamos y hacemos.",
            "نراعي العمر والنوع الاجتماعي والتنوع والإعاقة والبيئة وفيروس نقص المناعة البشرية في ما نخطط له وننفذه.",
        ],
    },
    Commitment {
        id: "senior_staff",
        title: [
            "Senior staff member",
            "Cadre engagé",
            "Personal directivo",
            "موظف رفيع المستوى",
        ],
        statement: [
            "A senior member of our staff is committed to the cluster, can speak for the organization and follows up on what is agreed.",
            "Un cadre de notre organisation s'engage auprès du cluster, peut parler en son nom et assure le suivi de ce qui est convenu.",
            "Una persona directiva de nuestra organización está comprometida con el clúster, puede hablar en su nombre y da seguimiento a lo acordado.",
            "يلتزم أحد كبار موظفينا بالعمل مع المجموعة، ويستطيع التحدث باسم المنظمة ومتابعة ما يُتفق عليه.",
        ],
    },
    Commitment {
        id: "resources",
        title: [
            "Shared resources",
            "Ressources partagées",
            "Recursos compartidos",
            "الموارد المشتركة",
        ],
        statement: [
            "We use resources cooperatively with other partners: we share assessments, stocks, expertise and tools where this serves the response.",
            "Nous utilisons les ressources en coopération avec les autres partenaires : nous partageons évaluations, stocks, expertise et outils quand cela sert la réponse.",
            "Usamos los recursos en cooperación con otros socios: compartimos evaluaciones, existencias, conocimientos y herramientas cuando sirve a la respuesta.",
            "نستخدم الموارد بالتعاون مع الشركاء الآخرين: نتقاسم التقييمات والمخزون والخبرات والأدوات حين يخدم ذلك الاستجابة.",
        ],
    },
    Commitment {
        id: "working_groups",
        title: [
            "Working groups",
            "Groupes de travail",
            "Grupos de trabajo",
            "مجموعات العمل",
        ],
        statement: [
            "We are willing to lead or co-lead a working group, a sub-national hub or a joint activity when our capacity allows.",
            "Nous sommes disposés à diriger ou codiriger un groupe de travail, un hub sous-national ou une activité commune quand nos capacités le permettent.",
            "Estamos dispuestos a dirigir o codirigir un grupo de trabajo, un centro subnacional o una actividad conjunta cuando nuestra capacidad lo permite.",
            "نحن مستعدون لقيادة أو المشاركة في قيادة مجموعة عمل أو مركز دون وطني أو نشاط مشترك عندما تسمح قدراتنا.",
        ],
    },
    Commitment {
        id: "advocacy",
        title: [
            "Advocacy",
            "Plaidoyer",
            "Incidencia",
            "المناصرة",
        ],
        statement: [
            "We take part in the cluster's advocacy and share with it the concerns we see in the field and hear from affected people.",
            "Nous prenons part au plaidoyer du cluster et lui faisons part des préoccupations que nous observons sur le terrain et entendons des personnes affectées.",
            "Participamos en la incidencia del clúster y le transmitimos las preocupaciones que vemos en el terreno y escuchamos de las personas afectadas.",
            "نشارك في جهود المناصرة التي تقوم بها المجموعة، وننقل إليها المخاوف التي نراها في الميدان ونسمعها من المتضررين.",
        ],
    },
    Commitment {
        id: "interpretation",
        title: [
            "Language and interpretation",
            "Langue et interprétation",
            "Idioma e interpretación",
            "اللغة والترجمة الفورية",
        ],
        statement: [
            "We help local organizations take part on equal terms: we support interpretation and translation at meetings and in documents where it is needed.",
            "Nous aidons les organisations locales à participer sur un pied d'égalité : nous soutenons l'interprétation et la traduction en réunion et dans les documents quand c'est nécessaire.",
            "Ayudamos a las organizaciones locales a participar en igualdad de condiciones: apoyamos la interpretación y la traducción en reuniones y documentos cuando hace falta.",
            "نساعد المنظمات المحلية على المشاركة على قدم المساواة: ندعم الترجمة الفورية والتحريرية في الاجتماعات والوثائق عند الحاجة.",
        ],
    },
];

/// The commitment with this id.
pub fn commitment(id: &str) -> Option<&'static Commitment> {
    COMMITMENTS.iter().find(|c| c.id == id)
}

/// The ids, in order.
pub fn ids() -> Vec<&'static str> {
    COMMITMENTS.iter().map(|c| c.id).collect()
}

/// One item of the onboarding checklist for a new member.
pub struct OnboardingItem {
    pub id: &'static str,
    pub label: [&'static str; 4],
}

impl OnboardingItem {
    pub fn label(&self, lang: &str) -> &'static str {
        self.label[index(lang)]
    }
}

pub const ONBOARDING: [OnboardingItem; 5] = [
    OnboardingItem {
        id: "cluster_approach",
        label: [
            "Briefed on the cluster approach and the minimum commitments",
            "Informé de l'approche cluster et des engagements minimaux",
            "Informado sobre el enfoque de clúster y los compromisos mínimos",
            "تم إطلاعه على نهج المجموعات والالتزامات الدنيا",
        ],
    },
    OnboardingItem {
        id: "meetings",
        label: [
            "Added to the meeting calendar and the mailing list",
            "Ajouté au calendrier des réunions et à la liste de diffusion",
            "Añadido al calendario de reuniones y a la lista de correo",
            "أضيف إلى جدول الاجتماعات وقائمة البريد",
        ],
    },
    OnboardingItem {
        id: "governance",
        label: [
            "Briefed on governance: terms of reference, strategic advisory group, decisions",
            "Informé de la gouvernance : termes de référence, groupe consultatif stratégique, décisions",
            "Informado sobre la gobernanza: términos de referencia, grupo asesor estratégico, decisiones",
            "تم إطلاعه على الحوكمة: الاختصاصات والفريق الاستشاري الاستراتيجي واتخاذ القرار",
        ],
    },
    OnboardingItem {
        id: "tools",
        label: [
            "Shown the tools: activity reporting (4W), information products, shared drive",
            "Présentation des outils : rapports d'activité (4W), produits d'information, dossier partagé",
            "Presentadas las herramientas: informes de actividades (4W), productos de información, carpeta compartida",
            "تم تعريفه بالأدوات: تقارير الأنشطة (4W) والمنتجات المعلوماتية والمجلد المشترك",
        ],
    },
    OnboardingItem {
        id: "focal_point",
        label: [
            "Focal point named and their contact details shared",
            "Point focal désigné et ses coordonnées partagées",
            "Punto focal designado y sus datos de contacto compartidos",
            "تم تعيين جهة اتصال ومشاركة بياناتها",
        ],
    },
];

pub fn onboarding_item(id: &str) -> Option<&'static OnboardingItem> {
    ONBOARDING.iter().find(|i| i.id == id)
}

/// The wording of the focal point's form (`/m/{token}`), keyed like `render::i18n`.
const FORM_TEXT: &[(&str, [&str; 4])] = &[
    (
        "heading",
        [
            "Minimum commitments: self-assessment {year}",
            "Engagements minimaux : auto-évaluation {year}",
            "Compromisos mínimos: autoevaluación {year}",
            "الالتزامات الدنيا: التقييم الذاتي {year}",
        ],
    ),
    (
        "intro",
        [
            "{organization} in {operation}. For each commitment, say how far your organization meets it today. This is your organization's own statement: the cluster coordinators see it with your organization's name.",
            "{organization} dans {operation}. Pour chaque engagement, indiquez dans quelle mesure votre organisation le respecte aujourd'hui. C'est la déclaration de votre organisation : les coordinateurs du cluster la voient avec son nom.",
            "{organization} en {operation}. Para cada compromiso, indique en qué medida su organización lo cumple hoy. Es la declaración de su organización: la coordinación del clúster la ve con su nombre.",
            "{organization} في {operation}. لكل التزام، بيّن إلى أي مدى تفي به منظمتك اليوم. هذا بيان منظمتك: يراه منسقو المجموعة مع اسم منظمتك.",
        ],
    ),
    ("meets", ["Meets", "Respecté", "Se cumple", "مستوفى"]),
    (
        "partly",
        [
            "Partly",
            "En partie",
            "En parte",
            "جزئياً",
        ],
    ),
    (
        "not_yet",
        ["Not yet", "Pas encore", "Todavía no", "ليس بعد"],
    ),
    (
        "comment",
        [
            "Comment (optional)",
            "Commentaire (facultatif)",
            "Comentario (opcional)",
            "تعليق (اختياري)",
        ],
    ),
    (
        "submit",
        [
            "Send our statement",
            "Envoyer notre déclaration",
            "Enviar nuestra declaración",
            "إرسال بياننا",
        ],
    ),
    (
        "thanks",
        [
            "Thank you: your statement is recorded. You may change it with this link until it expires.",
            "Merci : votre déclaration est enregistrée. Vous pouvez la modifier avec ce lien jusqu'à son expiration.",
            "Gracias: su declaración quedó registrada. Puede cambiarla con este enlace hasta que caduque.",
            "شكراً: تم تسجيل بيانكم. يمكنكم تعديله عبر هذا الرابط حتى انتهاء صلاحيته.",
        ],
    ),
    (
        "missing",
        [
            "Choose an answer for every commitment.",
            "Choisissez une réponse pour chaque engagement.",
            "Elija una respuesta para cada compromiso.",
            "اختر إجابة لكل التزام.",
        ],
    ),
    (
        "expires",
        [
            "This link works until {date}.",
            "Ce lien fonctionne jusqu'au {date}.",
            "Este enlace funciona hasta el {date}.",
            "يعمل هذا الرابط حتى {date}.",
        ],
    ),
    (
        "mail_subject",
        [
            "{operation}: your self-assessment of the minimum commitments ({year})",
            "{operation} : votre auto-évaluation des engagements minimaux ({year})",
            "{operation}: su autoevaluación de los compromisos mínimos ({year})",
            "{operation}: تقييمكم الذاتي للالتزامات الدنيا ({year})",
        ],
    ),
    (
        "mail_body",
        [
            "Hello,\n\nAs the focal point of {organization} in {operation}, please tell the cluster how far your organization meets each of the minimum commitments for cluster participation this year ({year}). It takes about ten minutes:\n\n{link}\n\nThe link is personal to your organization and works until {date}. Your answers are your organization's statement, seen by the cluster coordinators with its name.\n",
            "Bonjour,\n\nEn tant que point focal de {organization} dans {operation}, merci d'indiquer au cluster dans quelle mesure votre organisation respecte cette année ({year}) chacun des engagements minimaux de participation. Cela prend une dizaine de minutes :\n\n{link}\n\nLe lien est propre à votre organisation et fonctionne jusqu'au {date}. Vos réponses sont la déclaration de votre organisation, vue par les coordinateurs du cluster avec son nom.\n",
            "Hola:\n\nComo punto focal de {organization} en {operation}, indique al clúster en qué medida su organización cumple este año ({year}) cada uno de los compromisos mínimos de participación. Toma unos diez minutos:\n\n{link}\n\nEl enlace es propio de su organización y funciona hasta el {date}. Sus respuestas son la declaración de su organización, que la coordinación del clúster ve con su nombre.\n",
            "مرحباً،\n\nبصفتكم جهة الاتصال لمنظمة {organization} في {operation}، يرجى إبلاغ المجموعة إلى أي مدى تفي منظمتكم هذا العام ({year}) بكل من الالتزامات الدنيا للمشاركة في المجموعة. يستغرق ذلك نحو عشر دقائق:\n\n{link}\n\nالرابط خاص بمنظمتكم ويعمل حتى {date}. إجاباتكم هي بيان منظمتكم، ويراها منسقو المجموعة مع اسمها.\n",
        ],
    ),
];

/// The form's wording for `key` in `lang` (English when the key has no row).
pub fn form_text(lang: &str, key: &str) -> &'static str {
    FORM_TEXT
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, t)| t[index(lang)])
        .unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_is_written_in_every_language() {
        let mut ids = std::collections::BTreeSet::new();
        for c in &COMMITMENTS {
            assert!(ids.insert(c.id), "{} twice", c.id);
            for t in c.title.iter().chain(&c.statement) {
                assert!(!t.trim().is_empty(), "{}", c.id);
            }
            assert_ne!(c.statement[0], c.statement[1], "{} untranslated", c.id);
        }
        for i in &ONBOARDING {
            assert!(i.label.iter().all(|l| !l.is_empty()), "{}", i.id);
        }
        for (k, t) in FORM_TEXT {
            assert!(t.iter().all(|s| !s.is_empty()), "{k}");
        }
        assert_eq!(form_text("ar", "meets"), "مستوفى");
    }
}
