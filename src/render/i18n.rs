//! Interface text in the four languages (en, fr, es, ar). Questions and choices carry their
//! own translations in the survey files; this is the wording around them.

use crate::kernel::vocab::Language;

/// The language codes in the order of each row of [`TEXTS`].
pub const LANGUAGES: [Language; 4] = [Language::En, Language::Fr, Language::Es, Language::Ar];

pub fn is_rtl(lang: &str) -> bool {
    lang == "ar"
}

pub fn language_name(lang: &str) -> &'static str {
    match lang {
        "fr" => "Français",
        "es" => "Español",
        "ar" => "العربية",
        _ => "English",
    }
}

/// Looks up `key` in `lang`, falling back to English.
pub fn t(lang: &str, key: &str) -> &'static str {
    let row = TEXTS.iter().find(|(k, _)| *k == key);
    let Some((_, texts)) = row else {
        return "";
    };
    let i = match lang {
        "fr" => 1,
        "es" => 2,
        "ar" => 3,
        _ => 0,
    };
    texts[i]
}

/// Every key for one language, for templates.
pub fn all(lang: &str) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (k, _) in TEXTS {
        m.insert((*k).to_string(), serde_json::Value::from(t(lang, k)));
    }
    serde_json::Value::Object(m)
}

type Row = (&'static str, [&'static str; 4]);

const TEXTS: &[Row] = &[
    ("save_draft", ["Save and continue later", "Enregistrer et continuer plus tard", "Guardar y continuar más tarde", "حفظ والمتابعة لاحقًا"]),
    ("submit", ["Submit my answers", "Envoyer mes réponses", "Enviar mis respuestas", "إرسال إجاباتي"]),
    ("draft_saved", ["Your answers are saved. You can come back with the same link on any device.", "Vos réponses sont enregistrées. Vous pouvez revenir avec le même lien sur n'importe quel appareil.", "Sus respuestas están guardadas. Puede volver con el mismo enlace desde cualquier dispositivo.", "تم حفظ إجاباتكم. يمكنكم العودة باستخدام الرابط نفسه من أي جهاز."]),
    ("fix_errors", ["Some answers need attention. Please look at the questions marked below.", "Certaines réponses sont à revoir. Veuillez consulter les questions signalées ci-dessous.", "Algunas respuestas necesitan revisión. Revise las preguntas marcadas a continuación.", "بعض الإجابات تحتاج إلى مراجعة. يرجى الاطلاع على الأسئلة المشار إليها أدناه."]),
    ("thanks_title", ["Thank you", "Merci", "Gracias", "شكرًا لكم"]),
    ("thanks_body", ["Your answers have been received. They are anonymous: only your organization type is kept with them.", "Vos réponses ont bien été reçues. Elles sont anonymes : seul le type de votre organisation est conservé.", "Hemos recibido sus respuestas. Son anónimas: solo se conserva el tipo de su organización.", "تم استلام إجاباتكم. وهي مجهولة المصدر: لا يُحفظ معها سوى نوع منظمتكم."]),
    ("already_submitted", ["Answers have already been submitted with this link. Thank you.", "Des réponses ont déjà été envoyées avec ce lien. Merci.", "Ya se enviaron respuestas con este enlace. Gracias.", "تم إرسال الإجابات باستخدام هذا الرابط من قبل. شكرًا لكم."]),
    ("round_closed", ["This survey is closed and no longer accepts answers.", "Cette enquête est clôturée et n'accepte plus de réponses.", "Esta encuesta está cerrada y ya no acepta respuestas.", "هذا الاستبيان مغلق ولم يعد يقبل الإجابات."]),
    ("round_not_open", ["This survey is not open yet.", "Cette enquête n'est pas encore ouverte.", "Esta encuesta aún no está abierta.", "هذا الاستبيان لم يُفتح بعد."]),
    ("required", ["required", "obligatoire", "obligatoria", "إلزامي"]),
    ("language", ["Language", "Langue", "Idioma", "اللغة"]),
    ("anonymous_note", ["Your answers are anonymous: results are shown only for groups large enough that no organization can be identified.", "Vos réponses sont anonymes : les résultats ne sont présentés que pour des groupes assez grands pour qu'aucune organisation ne soit identifiable.", "Sus respuestas son anónimas: los resultados solo se muestran para grupos lo bastante grandes como para que ninguna organización pueda identificarse.", "إجاباتكم مجهولة المصدر: لا تُعرض النتائج إلا لمجموعات كبيرة بما يكفي بحيث لا يمكن التعرف على أي منظمة."]),
    ("invite_subject", ["Your views on the {cluster}: {survey}", "Votre avis sur le {cluster} : {survey}", "Su opinión sobre el {cluster}: {survey}", "رأيكم في {cluster}: {survey}"]),
    ("invite_body", ["Hello,\n\nThe {operation} is reviewing how well it coordinates, and asks for your views. The questionnaire takes about 15 minutes. Your answers are anonymous.\n\nOpen your personal link (you can save and continue later):\n{link}\n\nThe survey closes on {closes}.\n\nThank you.", "Bonjour,\n\nLe {operation} évalue la qualité de sa coordination et souhaite connaître votre avis. Le questionnaire prend environ 15 minutes. Vos réponses sont anonymes.\n\nOuvrez votre lien personnel (vous pouvez enregistrer et continuer plus tard) :\n{link}\n\nL'enquête se termine le {closes}.\n\nMerci.", "Hola:\n\nEl {operation} está evaluando la calidad de su coordinación y desea conocer su opinión. El cuestionario toma unos 15 minutos. Sus respuestas son anónimas.\n\nAbra su enlace personal (puede guardar y continuar más tarde):\n{link}\n\nLa encuesta cierra el {closes}.\n\nGracias.", "مرحبًا،\n\nتقوم {operation} بمراجعة جودة التنسيق، وتودّ معرفة رأيكم. يستغرق الاستبيان نحو 15 دقيقة، وإجاباتكم مجهولة المصدر.\n\nافتحوا رابطكم الشخصي (يمكنكم الحفظ والمتابعة لاحقًا):\n{link}\n\nيُغلق الاستبيان في {closes}.\n\nشكرًا لكم."]),
    ("remind_subject", ["Reminder: {survey}", "Rappel : {survey}", "Recordatorio: {survey}", "تذكير: {survey}"]),
    ("remind_body", ["Hello,\n\nThis is a reminder that the {operation} survey closes on {closes}. If you have not answered yet, your views are still welcome:\n{link}\n\nIf you have already answered, please ignore this message. Thank you.", "Bonjour,\n\nPetit rappel : l'enquête du {operation} se termine le {closes}. Si vous n'avez pas encore répondu, votre avis est toujours le bienvenu :\n{link}\n\nSi vous avez déjà répondu, merci d'ignorer ce message.", "Hola:\n\nLe recordamos que la encuesta del {operation} cierra el {closes}. Si aún no ha respondido, su opinión sigue siendo bienvenida:\n{link}\n\nSi ya respondió, ignore este mensaje. Gracias.", "مرحبًا،\n\nنذكّركم بأن استبيان {operation} يُغلق في {closes}. إن لم تجيبوا بعد، فرأيكم ما زال موضع ترحيب:\n{link}\n\nإن كنتم قد أجبتم بالفعل، يرجى تجاهل هذه الرسالة. شكرًا لكم."]),
    ("fb_send", ["Send", "Envoyer", "Enviar", "إرسال"]),
    ("fb_area_choose", ["Choose…", "Choisissez…", "Elija…", "اختاروا…"]),
    ("fb_area_other", ["Other / not in the list", "Autre / absent de la liste", "Otro / no está en la lista", "غير ذلك / غير موجود في القائمة"]),
    ("fb_note", ["You do not need to give your name. Only staff who handle feedback can read your message; serious matters are seen only by specially trained staff.", "Vous n'avez pas besoin de donner votre nom. Seules les personnes chargées du suivi peuvent lire votre message ; les sujets graves ne sont vus que par du personnel spécialement formé.", "No necesita dar su nombre. Solo el personal que atiende los comentarios puede leer su mensaje; los asuntos graves solo los ve personal especialmente capacitado.", "لا حاجة إلى ذكر اسمكم. لا يطّلع على رسالتكم إلا الموظفون المكلّفون بمتابعة الملاحظات، ولا يطّلع على المسائل الخطيرة إلا موظفون مدرَّبون خصيصًا."]),
    ("fb_received_title", ["Thank you, your message was received", "Merci, votre message a bien été reçu", "Gracias, recibimos su mensaje", "شكرًا لكم، تم استلام رسالتكم"]),
    ("fb_reference", ["Your reference number", "Votre numéro de référence", "Su número de referencia", "رقمكم المرجعي"]),
    ("fb_reference_note", ["Write this number down or take a photo of it. To see what happened with your message, come back to this page and enter the number. Nobody can read your message with it.", "Notez ce numéro ou prenez-le en photo. Pour savoir ce qu'il advient de votre message, revenez sur cette page et saisissez ce numéro. Personne ne peut lire votre message avec ce numéro.", "Anote este número o tómele una foto. Para saber qué pasó con su mensaje, vuelva a esta página e ingrese el número. Nadie puede leer su mensaje con él.", "دوّنوا هذا الرقم أو التقطوا له صورة. لمعرفة ما حدث لرسالتكم، عودوا إلى هذه الصفحة وأدخلوا الرقم. لا يمكن لأحد قراءة رسالتكم بواسطته."]),
    ("fb_status_title", ["Follow your feedback", "Suivre votre message", "Seguir su mensaje", "متابعة رسالتكم"]),
    ("fb_status_prompt", ["Reference number (for example FB-7KQ2-9XW3)", "Numéro de référence (par exemple FB-7KQ2-9XW3)", "Número de referencia (por ejemplo FB-7KQ2-9XW3)", "الرقم المرجعي (مثل FB-7KQ2-9XW3)"]),
    ("fb_check", ["Check", "Vérifier", "Consultar", "تحقّق"]),
    ("fb_not_found", ["We found no message with this number. Check it and try again.", "Aucun message ne correspond à ce numéro. Vérifiez-le et réessayez.", "No encontramos ningún mensaje con este número. Revíselo e inténtelo de nuevo.", "لم نعثر على أي رسالة بهذا الرقم. تحقّقوا منه وحاولوا مرة أخرى."]),
    ("fb_bad_reference", ["This does not look like a reference number. It has 8 letters and digits, like FB-7KQ2-9XW3.", "Ce n'est pas un numéro de référence. Il compte 8 lettres et chiffres, comme FB-7KQ2-9XW3.", "Esto no parece un número de referencia. Tiene 8 letras y cifras, como FB-7KQ2-9XW3.", "هذا لا يبدو رقمًا مرجعيًا. يتكون الرقم من 8 أحرف وأرقام، مثل FB-7KQ2-9XW3."]),
    ("fb_too_many", ["Too many attempts from this connection. Please wait a minute and try again.", "Trop de tentatives depuis cette connexion. Veuillez patienter une minute et réessayer.", "Demasiados intentos desde esta conexión. Espere un minuto e inténtelo de nuevo.", "محاولات كثيرة جدًا من هذا الاتصال. يرجى الانتظار دقيقة ثم المحاولة مرة أخرى."]),
    ("fb_status", ["Status", "Statut", "Estado", "الحالة"]),
    ("fb_updated", ["Last update", "Dernière mise à jour", "Última actualización", "آخر تحديث"]),
    ("fb_new", ["Send another message", "Envoyer un autre message", "Enviar otro mensaje", "إرسال رسالة أخرى"]),
    ("status_received", ["Received: waiting to be looked at", "Reçu : en attente de traitement", "Recibido: en espera de revisión", "تم الاستلام: بانتظار المراجعة"]),
    ("status_acknowledged", ["Seen by the team", "Pris en compte par l'équipe", "Visto por el equipo", "اطّلع عليه الفريق"]),
    ("status_referred", ["Passed to the organization that can act on it", "Transmis à l'organisation qui peut y donner suite", "Remitido a la organización que puede actuar", "أُحيل إلى الجهة القادرة على معالجته"]),
    ("status_responded", ["Answered", "Une réponse a été donnée", "Respondido", "تم الرد"]),
    ("status_closed", ["Closed", "Clôturé", "Cerrado", "مغلق"]),
    ("sc_subject", ["{cluster}: coordination scorecard, {period}", "{cluster} : tableau de bord de la coordination, {period}", "{cluster}: cuadro de mando de la coordinación, {period}", "{cluster}: بطاقة أداء التنسيق، {period}"]),
    ("sc_intro", ["The latest closed performance round of each operation of the cluster, and the feedback received from affected people.", "La dernière évaluation de performance clôturée de chaque opération du cluster, et les retours reçus des personnes affectées.", "La última evaluación de desempeño cerrada de cada operación del clúster y los comentarios recibidos de las personas afectadas.", "آخر جولة مكتملة لتقييم الأداء في كل عملية من عمليات المجموعة، والملاحظات الواردة من المتأثرين."]),
    ("sc_grid", ["Core functions by operation", "Fonctions essentielles par opération", "Funciones básicas por operación", "الوظائف الأساسية حسب العملية"]),
    ("sc_operation", ["Operation", "Opération", "Operación", "العملية"]),
    ("sc_round", ["Round", "Évaluation", "Evaluación", "الجولة"]),
    ("sc_overall", ["Overall score", "Score global", "Puntuación global", "الدرجة الإجمالية"]),
    ("sc_interval", ["95% interval", "intervalle à 95 %", "intervalo del 95 %", "فاصل ثقة 95%"]),
    ("sc_change", ["Change since the previous round", "Évolution depuis l'évaluation précédente", "Cambio desde la evaluación anterior", "التغيّر منذ الجولة السابقة"]),
    ("sc_response_rate", ["Response rate", "Taux de réponse", "Tasa de respuesta", "معدل الاستجابة"]),
    ("sc_no_round", ["No closed round yet", "Aucune évaluation clôturée", "Ninguna evaluación cerrada", "لا توجد جولة مكتملة بعد"]),
    ("sc_aap", ["Feedback from affected people (last 12 months)", "Retours des personnes affectées (12 derniers mois)", "Comentarios de las personas afectadas (últimos 12 meses)", "ملاحظات المتأثرين (آخر 12 شهرًا)"]),
    ("sc_items", ["items", "retours", "comentarios", "ملاحظة"]),
    ("sc_ack_sla", ["acknowledged in time", "accusés à temps", "atendidos a tiempo", "تم الإقرار بها في الوقت المحدد"]),
    ("sc_closed", ["closed", "clôturés", "cerrados", "مغلقة"]),
    ("sc_satisfied", ["satisfied", "satisfaits", "satisfechos", "راضون"]),
    ("sc_sensitive", ["sensitive (count only)", "sensibles (nombre seulement)", "delicados (solo el número)", "حساسة (العدد فقط)"]),
    ("sc_overdue_fb", ["past the deadline", "en retard", "fuera de plazo", "تجاوزت المهلة"]),
    ("sc_weakest", ["Weakest indicators across the cluster", "Indicateurs les plus faibles du cluster", "Indicadores más débiles del clúster", "أضعف المؤشرات في المجموعة"]),
    ("sc_actions", ["Open action-plan items", "Actions du plan d'action en cours", "Acciones del plan de acción abiertas", "بنود خطة العمل المفتوحة"]),
    ("sc_overdue", ["overdue", "en retard", "vencida", "متأخرة"]),
    ("sc_due", ["due", "échéance", "vence", "الموعد"]),
    ("sc_view", ["View this scorecard on the web", "Voir ce tableau de bord en ligne", "Ver este cuadro de mando en línea", "عرض بطاقة الأداء على الإنترنت"]),
    ("sc_csv", ["All scores are attached as a CSV file.", "Tous les scores sont joints au format CSV.", "Todas las puntuaciones van adjuntas en un archivo CSV.", "جميع الدرجات مرفقة في ملف CSV."]),
    ("dl_downloads", ["Downloads", "Téléchargements", "Descargas", "التنزيلات"]),
    ("dl_responses", ["responses of the round", "réponses du cycle", "respuestas de la ronda", "إجابات الجولة"]),
    ("dl_actions", ["action plan", "plan d'action", "plan de acción", "خطة العمل"]),
    ("dl_feedback", ["feedback log", "registre des retours", "registro de comentarios", "سجل الملاحظات"]),
    ("dl_hxl", ["CSV with HXL hashtags", "CSV avec hashtags HXL", "CSV con etiquetas HXL", "CSV مع وسوم HXL"]),
    ("sc_volume", ["Feedback received per month, by category", "Retours reçus par mois, par catégorie", "Comentarios recibidos por mes, por categoría", "الملاحظات الواردة شهريًا حسب الفئة"]),
    ("sc_none", ["None.", "Aucun.", "Ninguno.", "لا يوجد."]),
    ("st_good", ["good", "bon", "bueno", "جيد"]),
    ("st_satisfactory", ["satisfactory", "satisfaisant", "satisfactorio", "مرضٍ"]),
    ("st_unsatisfactory", ["unsatisfactory", "insatisfaisant", "insatisfactorio", "غير مرضٍ"]),
    ("st_weak", ["weak", "faible", "débil", "ضعيف"]),
    ("st_insufficient_data", ["insufficient data", "données insuffisantes", "datos insuficientes", "بيانات غير كافية"]),
];

/// Replaces `{name}` placeholders.
pub fn fill(template: &str, vars: &[(&str, &str)]) -> String {
    let mut s = template.to_string();
    for (k, v) in vars {
        s = s.replace(&format!("{{{k}}}"), v);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_exists_in_every_language() {
        for (k, texts) in TEXTS {
            for (i, t) in texts.iter().enumerate() {
                assert!(!t.trim().is_empty(), "{k} in {}", LANGUAGES[i]);
            }
            // Placeholders are the same in every language.
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .match_indices('{')
                    .map(|(i, _)| s[i..].split('}').next().unwrap().to_string())
                    .collect();
                v.sort();
                v
            };
            for t in &texts[1..] {
                assert_eq!(holes(texts[0]), holes(t), "{k}");
            }
        }
        assert_eq!(t("xx", "submit"), "Submit my answers");
        assert_eq!(fill("a {x} b", &[("x", "1")]), "a 1 b");
    }
}
